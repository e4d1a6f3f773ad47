// The CLI's one error type: a message for the person at the terminal (what went wrong and
// what to do) and the exit code. Commands throw it; the program prints "error: <message>"
// (or the message as is, for server errors kubectl prints in its own shape) and exits.

export class CliError extends Error {
  override readonly name = "CliError";
  /** The process exit code; kubectl exits 1 for every error. */
  readonly exitCode: number;
  /** When true the message is printed as is, without kubectl's "error: " prefix. */
  readonly raw: boolean;

  constructor(
    message: string,
    options: { exitCode?: number; raw?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
    this.raw = options.raw ?? false;
  }
}
