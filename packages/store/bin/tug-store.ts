#!/usr/bin/env node
// tug-store: one member of a tug-store cluster. See docs/store.md, or run with --help.

import { applyGcTuning } from "../src/process/gc-tuning.js";
import { runTugStore } from "../src/process/main.js";

applyGcTuning();
runTugStore({ argv: process.argv.slice(2), handleSignals: true }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `tug-store: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
