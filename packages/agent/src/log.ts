// Structured JSON logs, one object a line on stderr, as every tug daemon writes them
// (DESIGN.md: "logs structured JSON").

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A logger that writes one JSON object per call. Fields must be JSON-serializable. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

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
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(
      `${JSON.stringify({ ts: new Date().toISOString(), level: lvl, component, msg, ...fields })}\n`,
    );
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** A logger that drops everything (tests that assert on behaviour, not on logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
