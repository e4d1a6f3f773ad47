// Everything a command touches outside its arguments, passed in so that commands run the same
// in tests (captured streams, a fixed clock, a fake client) as in the terminal.

import type { CliClient } from "./client/cli-client.js";
import type { Connection } from "./config/config-ops.js";

export interface TextSink {
  write(text: string): void;
}

export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** The whole of standard input (for `-f -`). */
  readStdin(): Promise<string>;
  /** Environment variables: TUGCONFIG, HOME, KUBE_EDITOR, EDITOR. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The clock AGE columns are measured against. */
  now(): Date;
  /** Opens a client to the resolved server; `requestTimeoutMs` 0 means no deadline. */
  connect(connection: Connection, requestTimeoutMs: number): CliClient;
  /**
   * Runs the editor command line (`vi`, `code --wait`) on `file` and resolves when it exits;
   * rejects when it cannot be started or exits non-zero.
   */
  runEditor(editor: string, file: string): Promise<void>;
  /** Aborted when the user interrupts (Ctrl-C): ends watches cleanly. */
  readonly signal: AbortSignal;
}
