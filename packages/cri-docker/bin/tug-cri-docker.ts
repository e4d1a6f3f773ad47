#!/usr/bin/env node
// tug-cri-docker: a CRI v1 runtime over Docker. See docs/cri-docker.md, or run with --help.

import { runTugCriDocker } from "../src/main.js";

runTugCriDocker({ argv: process.argv.slice(2), handleSignals: true }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `tug-cri-docker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
