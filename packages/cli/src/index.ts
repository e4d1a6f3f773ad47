// @tug/cli — the `tug` command line: kubectl's verbs and habits against tug-apiserver.
export type { CliIo, TextSink } from "./cli-io.js";
export type { CliClient } from "./client/cli-client.js";
export { nodeIo } from "./node-io.js";
export { runTug } from "./program.js";
