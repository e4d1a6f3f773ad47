// Structured logs as every tug daemon writes them (DESIGN.md: "logs structured JSON"): one JSON
// object a line, on stderr by default (etcd and the Kubernetes components log to stderr too).
//
//   flat   (kube-style daemons)  {"ts":"…","level":"info","msg":"…","node":"a"}
//   nested (tug-store, as etcd)  {"ts":"…","level":"info","component":"raft","msg":"…","fields":{"term":2}}
//
// "component" is present when the logger has one. In the flat layout the fields sit beside
// msg and an Error field is its message; in the nested layout they sit under "fields" (left
// out when there are none) and an Error is {message, code?}. Either way bigints are decimal
// strings, Maps objects and Sets arrays, so a field never breaks JSON.stringify.

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same sink, level and layout, logging as `component`. */
  child(component: string): Logger;
}

export type LogLayout = "flat" | "nested";

export interface LoggerOptions {
  /** Lines below this level are dropped. */
  readonly level: LogLevel;
  /** Default "flat". */
  readonly layout?: LogLayout;
  /** Written as "component" on every line; none by default. */
  readonly component?: string;
  /** Gets each line, newline included. Default: process.stderr. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Whether `s` is a log level (for settings that take one). */
export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const nested = options.layout === "nested";
  const replacer = nested ? nestedReplacer : flatReplacer;
  const make = (component: string | undefined): Logger => {
    const emit = (level: LogLevel, msg: string, fields: LogFields | undefined): void => {
      if (RANK[level] < RANK[options.level]) return;
      const line: Record<string, unknown> = { ts: now().toISOString(), level };
      if (component !== undefined) line.component = component;
      line.msg = msg;
      if (fields !== undefined) {
        if (!nested) {
          for (const [k, v] of Object.entries(fields)) line[k] = v;
        } else if (Object.keys(fields).length > 0) {
          line.fields = fields;
        }
      }
      write(`${JSON.stringify(line, replacer)}\n`);
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
  return make(options.component);
}

/** Drops everything: for code paths that must log somewhere, and tests. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });

function plainValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

function flatReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : plainValue(value);
}

function nestedReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { message: value.message } : { message: value.message, code };
  }
  return plainValue(value);
}
