#!/usr/bin/env node
// tug: the command line for a tug cluster, with kubectl's verbs and habits. See docs/cli.md.
import { nodeIo } from "../src/node-io.js";
import { runTug } from "../src/program.js";

process.exitCode = await runTug(process.argv.slice(2), nodeIo());
