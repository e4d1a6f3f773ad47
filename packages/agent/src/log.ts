// Structured JSON logs, one object a line on stderr, as every tug daemon writes them
// (DESIGN.md: "logs structured JSON"): @tug/daemon's logger in its flat layout, with the
// component, {"ts":…,"level":"info","component":"tug-agent","msg":…, ...fields}.

import { createLogger, silentLogger as daemonSilentLogger, type LogLevel } from "@tug/daemon";

export type { LogLevel } from "@tug/daemon";

/** What the agent's parts log through: one JSON object per call; fields must be JSON-serializable. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Turns an error into something JSON shows: its message (a stack only adds noise here). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A logger writing lines at `level` or above to `write` (default: stderr). */
export function jsonLogger(
  component: string,
  level: LogLevel = "info",
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  return createLogger({ level, component, write });
}

/** A logger that drops everything (tests that assert on behaviour, not on logs). */
export const silentLogger: Logger = daemonSilentLogger;
