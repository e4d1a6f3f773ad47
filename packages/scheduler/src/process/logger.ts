// Structured JSON logs, one object a line on stderr, as every tug daemon writes them:
// {"ts":"...","level":"info","msg":"...", ...fields}.

import type { LogLevel } from "./settings.js";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(level: LogLevel, write: (line: string) => void): Logger {
  const at =
    (l: LogLevel) =>
    (msg: string, fields: LogFields = {}): void => {
      if (RANK[l] < RANK[level]) return;
      const entry: Record<string, unknown> = { ts: new Date().toISOString(), level: l, msg };
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? v.message : v;
      write(`${JSON.stringify(entry)}\n`);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
