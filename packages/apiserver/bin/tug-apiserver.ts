#!/usr/bin/env node
// tug-apiserver: the tug API server. See docs/apiserver.md, or run with --help.

import { runTugApiserver } from "../src/process/main.js";

runTugApiserver({ argv: process.argv.slice(2), handleSignals: true }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `tug-apiserver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
