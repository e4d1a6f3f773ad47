// Structured JSON logs, one object a line, as every tug daemon writes them:
// {"ts":"...","level":"info","msg":"...", ...fields}.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger writing lines at `level` and above through `write`. */
export function createLogger(level: LogLevel, write: (line: string) => void): Logger {
  const log =
    (at: LogLevel) =>
    (msg: string, fields: LogFields = {}) => {
      if (RANK[at] < RANK[level]) return;
      const entry: Record<string, unknown> = { ts: new Date().toISOString(), level: at, msg };
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? v.message : v;
      write(`${JSON.stringify(entry)}\n`);
    };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** Drops everything (tests). */
export const SILENT_LOGGER: Logger = createLogger("error", () => {});
