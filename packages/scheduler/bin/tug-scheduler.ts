#!/usr/bin/env node
// tug-scheduler: binds pending pods to nodes. See docs/scheduler.md, or run with --help.

import { runTugScheduler } from "../src/process/main.js";

runTugScheduler({ argv: process.argv.slice(2), handleSignals: true }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `tug-scheduler: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
