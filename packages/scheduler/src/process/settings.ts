// tug-scheduler's settings: kube-scheduler's flag names where it has them, each also settable
// as the environment variable TUG_SCHEDULER_<FLAG> and as a key of the --config file. A flag
// beats the environment, which beats the file, which beats the default. The config file is
// JSON (also valid YAML), a flat object keyed by the flag names:
// {"master": "127.0.0.1:6443", "leader-elect": false}. A bad value is a ConfigError naming
// the setting as the operator spelled it and the fix; the process exits 2 on one.

import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_SCHEDULER_NAME } from "../framework/profile.js";

export const ENV_PREFIX = "TUG_SCHEDULER_";

interface FlagSpec {
  /** The flag without its dashes; also the config-file key. */
  readonly name: string;
  readonly arg: string;
  readonly description: string;
  readonly default?: string;
}

/** Every setting, in --help order. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "master",
    arg: "<addresses>",
    description: "tug-apiserver addresses (host:port), comma-separated; required",
  },
  {
    name: "bind-address",
    arg: "<ip>",
    description: "the address of the /healthz, /readyz and /metrics HTTP endpoints",
    default: "0.0.0.0",
  },
  {
    name: "secure-port",
    arg: "<port>",
    description: "the port of those endpoints, plain HTTP (0: off)",
    default: "10259",
  },
  {
    name: "scheduler-name",
    arg: "<name>",
    description: "schedule the pods whose spec.schedulerName is this",
    default: DEFAULT_SCHEDULER_NAME,
  },
  {
    name: "percentage-of-nodes-to-score",
    arg: "<percent>",
    description:
      "share of nodes to find feasible before scoring (0: adaptive, 50% - nodes/125, at least 5%)",
    default: "0",
  },
  {
    name: "pod-initial-backoff",
    arg: "<duration>",
    description: "back-off after a pod's first failed attempt",
    default: "1s",
  },
  {
    name: "pod-max-backoff",
    arg: "<duration>",
    description: "the longest back-off between a pod's attempts",
    default: "10s",
  },
  {
    name: "leader-elect",
    arg: "<bool>",
    description: "run only while holding the Lease, so that several replicas can stand by",
    default: "true",
  },
  {
    name: "leader-elect-lease-duration",
    arg: "<duration>",
    description: "how long a standby waits after the last renewal before taking over",
    default: "15s",
  },
  {
    name: "leader-elect-renew-deadline",
    arg: "<duration>",
    description: "how long the leader keeps trying to renew before it gives up leading",
    default: "10s",
  },
  {
    name: "leader-elect-retry-period",
    arg: "<duration>",
    description: "the interval between attempts to acquire or renew the Lease",
    default: "2s",
  },
  {
    name: "leader-elect-resource-namespace",
    arg: "<namespace>",
    description: "the namespace of the Lease",
    default: "kube-system",
  },
  {
    name: "leader-elect-resource-name",
    arg: "<name>",
    description: "the name of the Lease",
    default: "kube-scheduler",
  },
  {
    name: "log-level",
    arg: "<level>",
    description: "debug, info, warn or error",
    default: "info",
  },
];

const FLAG_NAMES = new Set(FLAGS.map((f) => f.name));

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SchedulerSettings {
  readonly master: readonly string[];
  readonly bindAddress: string;
  readonly securePort: number;
  readonly schedulerName: string;
  readonly percentageOfNodesToScore: number;
  readonly podInitialBackoffMs: number;
  readonly podMaxBackoffMs: number;
  readonly leaderElect: boolean;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly logLevel: LogLevel;
}

/** A bad setting, addressed to the operator. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
}

/** TUG_SCHEDULER_ and the flag in upper snake case. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

export type ParseResult =
  | { readonly kind: "run"; readonly settings: SchedulerSettings }
  | {
      readonly kind: "exit";
      readonly code: number;
      readonly output: string;
      readonly stream: "stdout" | "stderr";
    };

function buildCommand(version: string): Command {
  const cmd = new Command("tug-scheduler")
    .description("The tug scheduler: binds pending pods to nodes through tug-apiserver.")
    .addHelpText(
      "after",
      [
        "",
        `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("master")}=127.0.0.1:6443,`,
        'or as a key of the --config JSON file, e.g. {"master": "127.0.0.1:6443"}. A flag wins over the',
        "environment, the environment over the file. Docs: docs/scheduler.md.",
      ].join("\n"),
    )
    .version(version, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .allowExcessArguments(false)
    .exitOverride();
  cmd.addOption(new Option("--config <path>", "JSON file with settings (keys as the flags)"));
  for (const f of FLAGS) {
    const desc =
      f.default === undefined ? f.description : `${f.description} (default: ${f.default})`;
    cmd.addOption(new Option(`--${f.name} ${f.arg}`, desc));
  }
  return cmd;
}

/** Go durations as kube-scheduler takes them: "15s", "1m30s", "250ms", "0". Milliseconds. */
export function parseDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    end = re.lastIndex;
  }
  return end === s.length && s.length > 0 ? total : undefined;
}

type Source = "flag" | "env" | "file" | "default";

/**
 * Parses `argv` (without node and the script), the environment and the config file. --help,
 * --version and flags commander rejects give an "exit" result; a bad value throws ConfigError.
 */
export function parseSettings(
  argv: readonly string[],
  options: {
    env?: Readonly<Record<string, string | undefined>>;
    version?: string;
    readFile?: (path: string) => string;
  } = {},
): ParseResult {
  const env = options.env ?? process.env;
  const cmd = buildCommand(options.version ?? "0.0.0");
  let out = "";
  let err = "";
  cmd.configureOutput({
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      err += s;
    },
  });
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) return { kind: "exit", code: 0, output: out, stream: "stdout" };
    return {
      kind: "exit",
      code: 2,
      output: `${err.trimEnd()}\nRun tug-scheduler --help for the flags.\n`,
      stream: "stderr",
    };
  }
  const problems: string[] = [];
  const raw = new Map<string, { value: string; source: Source }>();
  for (const f of FLAGS) {
    if (f.default !== undefined) raw.set(f.name, { value: f.default, source: "default" });
  }
  const opts = cmd.opts<Record<string, string | undefined>>();
  const configPath = opts.config ?? (env[envName("config")] || undefined);
  if (configPath !== undefined) {
    for (const [k, v] of readConfig(configPath, options.readFile, problems)) {
      raw.set(k, { value: v, source: "file" });
    }
  }
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const flag = key.slice(ENV_PREFIX.length).toLowerCase().replaceAll("_", "-");
    if (flag === "config") continue;
    if (!FLAG_NAMES.has(flag)) {
      problems.push(
        `${key} in the environment is not a tug-scheduler setting; unset it or fix its name`,
      );
      continue;
    }
    raw.set(flag, { value, source: "env" });
  }
  for (const f of FLAGS) {
    const attr = cmd.options.find((o) => o.long === `--${f.name}`)?.attributeName() ?? "";
    const v = opts[attr];
    if (v !== undefined) raw.set(f.name, { value: v, source: "flag" });
  }

  const describe = (flag: string): string => {
    const s = raw.get(flag);
    if (s?.source === "env") return `--${flag} (set by ${envName(flag)})`;
    if (s?.source === "file") return `--${flag} (set by "${flag}" in ${configPath})`;
    return `--${flag}`;
  };
  const value = (flag: string) => raw.get(flag)?.value ?? "";
  const port = (flag: string): number => {
    const v = value(flag);
    if (!/^\d+$/.test(v) || Number(v) > 65535) {
      problems.push(`${describe(flag)} "${v}" is not a port; give a number from 0 to 65535`);
      return 0;
    }
    return Number(v);
  };
  const duration = (flag: string, min = 1): number => {
    const ms = parseDuration(value(flag));
    if (ms === undefined || ms < min) {
      problems.push(
        `${describe(flag)} "${value(flag)}" is not a positive duration; write it as Go does, e.g. 10s, 1m`,
      );
      return 0;
    }
    return ms;
  };
  const bool = (flag: string): boolean => {
    const v = value(flag);
    if (v !== "true" && v !== "false") {
      problems.push(`${describe(flag)} "${v}" must be true or false`);
      return false;
    }
    return v === "true";
  };

  const master = value("master")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (master.length === 0) {
    problems.push(
      `--master is required: give tug-apiserver's address, e.g. --master=127.0.0.1:6443 (or ${envName("master")})`,
    );
  }
  for (const m of master) {
    if (!/^(https?:\/\/)?[^/\s]+:\d+\/?$/.test(m)) {
      problems.push(`${describe("master")} "${m}" is not an address like 127.0.0.1:6443`);
    }
  }
  const pctText = value("percentage-of-nodes-to-score");
  const pct = Number(pctText);
  if (!/^\d+$/.test(pctText) || pct > 100) {
    problems.push(
      `${describe("percentage-of-nodes-to-score")} "${pctText}" must be a whole number from 0 to 100`,
    );
  }
  const logLevel = value("log-level");
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`${describe("log-level")} "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  if (value("scheduler-name") === "") {
    problems.push(
      `${describe("scheduler-name")} must not be empty; the default is ${DEFAULT_SCHEDULER_NAME}`,
    );
  }
  const settings: SchedulerSettings = {
    master,
    bindAddress: value("bind-address"),
    securePort: port("secure-port"),
    schedulerName: value("scheduler-name"),
    percentageOfNodesToScore: pct,
    podInitialBackoffMs: duration("pod-initial-backoff"),
    podMaxBackoffMs: duration("pod-max-backoff"),
    leaderElect: bool("leader-elect"),
    leaseDurationMs: duration("leader-elect-lease-duration"),
    renewDeadlineMs: duration("leader-elect-renew-deadline"),
    retryPeriodMs: duration("leader-elect-retry-period"),
    leaseNamespace: value("leader-elect-resource-namespace"),
    leaseName: value("leader-elect-resource-name"),
    logLevel: logLevel as LogLevel,
  };
  if (problems.length === 0 && settings.podMaxBackoffMs < settings.podInitialBackoffMs) {
    problems.push(
      `${describe("pod-max-backoff")} must be at least --pod-initial-backoff (${value("pod-initial-backoff")})`,
    );
  }
  if (
    problems.length === 0 &&
    settings.leaderElect &&
    !(settings.leaseDurationMs > settings.renewDeadlineMs)
  ) {
    problems.push(
      `${describe("leader-elect-lease-duration")} must be greater than --leader-elect-renew-deadline`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: "run", settings };
}

function readConfig(
  path: string,
  readFile: ((path: string) => string) | undefined,
  problems: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  let doc: unknown;
  try {
    doc = JSON.parse(readFile !== undefined ? readFile(path) : readFileSync(path, "utf8"));
  } catch (e) {
    problems.push(
      `--config ${path} cannot be read as JSON (${(e as Error).message.split("\n")[0]}); fix the path or the file`,
    );
    return out;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    problems.push(
      `--config ${path} must be a JSON object of settings, e.g. {"secure-port": 10259}`,
    );
    return out;
  }
  for (const [key, v] of Object.entries(doc)) {
    if (!FLAG_NAMES.has(key)) {
      problems.push(
        `"${key}" in ${path} is not a tug-scheduler setting; remove it or fix its name (keys are the flags without the dashes)`,
      );
      continue;
    }
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean")
      out.set(key, String(v));
    else if (Array.isArray(v) && v.every((x) => typeof x === "string")) out.set(key, v.join(","));
    else
      problems.push(
        `"${key}" in ${path} must be a string, a number, a boolean or a list of strings`,
      );
  }
  return out;
}
