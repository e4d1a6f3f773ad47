// Structured logs: one JSON object per line on stderr (etcd and Kubernetes components log to
// stderr too), with the keys
//
//   {"ts":"2026-01-02T03:04:05.678Z","level":"info","component":"raft","msg":"became leader","fields":{"term":2}}
//
// `fields` is left out when there are none. Ids are logged as hex strings, as etcdctl prints
// them; Errors as {message, code?}; bigints as decimal strings.

import type { LogLevel } from "./config.js";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same sink and level, logging as `component`. */
  child(component: string): Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly component?: string;
  /** Gets each line, newline included. Default: process.stderr. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const make = (component: string): Logger => {
    const emit = (level: LogLevel, msg: string, fields: LogFields | undefined): void => {
      if (RANK[level] < RANK[options.level]) return;
      const record: Record<string, unknown> = { ts: now().toISOString(), level, component, msg };
      if (fields !== undefined && Object.keys(fields).length > 0) record.fields = fields;
      write(`${JSON.stringify(record, replacer)}\n`);
    };
    return {
      level: options.level,
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (c) => make(c),
    };
  };
  return make(options.component ?? "tug-store");
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { message: value.message } : { message: value.message, code };
  }
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

/** A logger that drops everything, for code paths that must log somewhere. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

/** Ids in logs: hex, as etcd and etcdctl print member and cluster ids. */
export function hexId(id: number): string {
  return id.toString(16);
}
