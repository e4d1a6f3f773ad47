#!/usr/bin/env node
// tug-controller-manager: tug's controllers, leader-elected. See docs/controller-manager.md, or
// run with --help.

import { runTugControllerManager } from "../src/process/main.js";

runTugControllerManager({ argv: process.argv.slice(2), handleSignals: true }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `tug-controller-manager: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
