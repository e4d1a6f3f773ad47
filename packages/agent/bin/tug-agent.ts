#!/usr/bin/env node
// tug-agent: tug's node agent. See docs/agent.md, or run with --help.

import { runTugAgent } from "../src/process/main.js";

runTugAgent({ argv: process.argv.slice(2), handleSignals: true }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `tug-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
