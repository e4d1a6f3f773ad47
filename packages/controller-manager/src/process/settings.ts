// tug-controller-manager's settings: kube-controller-manager's flag names where they exist,
// each also settable as the environment variable TUG_CONTROLLER_MANAGER_<FLAG> (upper case,
// dashes as underscores). A flag beats the environment, which beats the default. Bad input is a
// ConfigError naming the setting as the operator spelled it, and the fix; the process exits 2.
// https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/

import { Command, CommanderError } from "commander";
import { type ControllerName, KNOWN_CONTROLLERS } from "./controller-manager.js";
import type { LogLevel } from "./logger.js";

export const ENV_PREFIX = "TUG_CONTROLLER_MANAGER_";

interface FlagSpec {
  readonly name: string;
  readonly arg?: string;
  readonly description: string;
  readonly default: string;
}

/** Every setting, in --help order. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "master",
    arg: "<addresses>",
    description: "tug-apiserver addresses (host:port), comma-separated; --server is an alias",
    default: "127.0.0.1:6443",
  },
  {
    name: "controllers",
    arg: "<list>",
    description: `controllers to run: "*" for all, "name" to enable, "-name" to disable; known: ${KNOWN_CONTROLLERS.join(", ")}`,
    default: "*",
  },
  {
    name: "leader-elect",
    arg: "<bool>",
    description: "run controllers only while holding the leader Lease (for several replicas)",
    default: "true",
  },
  {
    name: "leader-elect-lease-duration",
    arg: "<duration>",
    description: "how long a standby waits after the lease last changed before taking over",
    default: "15s",
  },
  {
    name: "leader-elect-renew-deadline",
    arg: "<duration>",
    description: "how long the leader retries renewing before it stops leading",
    default: "10s",
  },
  {
    name: "leader-elect-retry-period",
    arg: "<duration>",
    description: "time between attempts to acquire or renew the lease",
    default: "2s",
  },
  {
    name: "leader-elect-resource-namespace",
    arg: "<namespace>",
    description: "namespace of the leader Lease",
    default: "kube-system",
  },
  {
    name: "leader-elect-resource-name",
    arg: "<name>",
    description: "name of the leader Lease",
    default: "kube-controller-manager",
  },
  {
    name: "concurrent-deployment-syncs",
    arg: "<n>",
    description: "Deployments reconciled at once",
    default: "5",
  },
  {
    name: "concurrent-replicaset-syncs",
    arg: "<n>",
    description: "ReplicaSets reconciled at once",
    default: "5",
  },
  {
    name: "bind-address",
    arg: "<ip>",
    description: "address of the HTTP /healthz, /readyz and /metrics endpoints",
    default: "0.0.0.0",
  },
  {
    name: "secure-port",
    arg: "<port>",
    description: "port of the HTTP /healthz, /readyz and /metrics endpoints (plain HTTP; 0: off)",
    default: "10257",
  },
  { name: "log-level", arg: "<level>", description: "debug, info, warn or error", default: "info" },
];

export interface ControllerManagerSettings {
  readonly servers: string[];
  readonly controllers: ControllerName[];
  readonly leaderElect: boolean;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly concurrentDeploymentSyncs: number;
  readonly concurrentReplicaSetSyncs: number;
  readonly bindAddress: string;
  readonly healthPort: number;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export type ParseResult =
  | { readonly kind: "settings"; readonly settings: ControllerManagerSettings }
  | { readonly kind: "exit"; readonly code: number; readonly output: string };

/** The environment variable of a flag: TUG_CONTROLLER_MANAGER_LEADER_ELECT. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

/** Go-style durations: "15s", "1m30s", "500ms"; undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    matched = re.lastIndex;
  }
  return matched === s.length && s.length > 0 ? total : undefined;
}

/** The controllers a --controllers value enables, as kube-controller-manager reads it. */
export function parseControllers(value: string, source: string): ControllerName[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const known = new Set<string>(KNOWN_CONTROLLERS);
  const all = items.includes("*");
  const enabled = new Set<ControllerName>(all ? KNOWN_CONTROLLERS : []);
  for (const item of items) {
    if (item === "*") continue;
    const name = item.startsWith("-") ? item.slice(1) : item;
    if (!known.has(name)) {
      throw new ConfigError(
        `${source}: unknown controller ${JSON.stringify(name)}; known controllers: ${KNOWN_CONTROLLERS.join(", ")} (or "*")`,
      );
    }
    if (item.startsWith("-")) enabled.delete(name as ControllerName);
    else enabled.add(name as ControllerName);
  }
  return KNOWN_CONTROLLERS.filter((c) => enabled.has(c));
}

/** --help text. */
export function helpText(): string {
  const lines = [
    "Usage: tug-controller-manager [flags]",
    "",
    "Runs tug's controllers (ReplicaSet, Deployment) against tug-apiserver; with several",
    "replicas one leads (Lease kube-system/kube-controller-manager) and the others stand by.",
    "",
    "Flags (each also settable as the environment variable shown):",
  ];
  for (const f of FLAGS) {
    lines.push(`  --${f.name} ${f.arg ?? ""}`.trimEnd());
    lines.push(`      ${f.description} (default ${JSON.stringify(f.default)}; ${envName(f.name)})`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Parses `argv` (without node and the script) and the environment into settings. --help and
 * --version give an "exit" result; a bad value throws ConfigError.
 */
export function parseSettings(
  argv: readonly string[],
  options: { env?: Readonly<Record<string, string | undefined>>; version?: string } = {},
): ParseResult {
  const env = options.env ?? {};
  let output = "";
  const program = new Command("tug-controller-manager")
    .exitOverride()
    .configureOutput({ writeOut: (s) => (output += s), writeErr: (s) => (output += s) })
    .helpOption(false)
    .option("--help", "show help")
    .option("--version", "show the version")
    .option("--server <addresses>", "alias of --master");
  for (const f of FLAGS) program.option(`--${f.name} ${f.arg ?? ""}`.trimEnd(), f.description);
  try {
    program.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return { kind: "exit", code: 2, output };
    throw e;
  }
  const opts = program.opts<Record<string, string | boolean | undefined>>();
  if (opts.help === true) return { kind: "exit", code: 0, output: helpText() };
  if (opts.version === true) {
    return {
      kind: "exit",
      code: 0,
      output: `tug-controller-manager ${options.version ?? "dev"}\n`,
    };
  }
  const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const get = (name: string): { value: string; source: string } => {
    const fromFlag = opts[camel(name)];
    if (typeof fromFlag === "string") return { value: fromFlag, source: `--${name}` };
    if (name === "master" && typeof opts.server === "string") {
      return { value: opts.server, source: "--server" };
    }
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: envName(name) };
    const spec = FLAGS.find((f) => f.name === name);
    return { value: spec?.default ?? "", source: `--${name}` };
  };
  const duration = (name: string): number => {
    const { value, source } = get(name);
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      throw new ConfigError(
        `${source}: invalid duration ${JSON.stringify(value)}; use a positive Go duration such as 15s or 1m30s`,
      );
    }
    return ms;
  };
  const integer = (name: string, min: number, max: number): number => {
    const { value, source } = get(name);
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new ConfigError(
        `${source}: invalid value ${JSON.stringify(value)}; use an integer from ${min} to ${max}`,
      );
    }
    return n;
  };
  const bool = (name: string): boolean => {
    const { value, source } = get(name);
    if (value === "true") return true;
    if (value === "false") return false;
    throw new ConfigError(`${source}: invalid value ${JSON.stringify(value)}; use true or false`);
  };
  const master = get("master");
  const servers = master.value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (servers.length === 0) {
    throw new ConfigError(
      `${master.source}: empty; give tug-apiserver addresses such as 127.0.0.1:6443`,
    );
  }
  const leaseDurationMs = duration("leader-elect-lease-duration");
  const renewDeadlineMs = duration("leader-elect-renew-deadline");
  const retryPeriodMs = duration("leader-elect-retry-period");
  if (renewDeadlineMs >= leaseDurationMs) {
    throw new ConfigError(
      "--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration, or a stalled leader could outlive its lease",
    );
  }
  if (retryPeriodMs >= renewDeadlineMs) {
    throw new ConfigError(
      "--leader-elect-retry-period must be shorter than --leader-elect-renew-deadline, or renewal gets no retry",
    );
  }
  const level = get("log-level");
  if (!["debug", "info", "warn", "error"].includes(level.value)) {
    throw new ConfigError(
      `${level.source}: invalid level ${JSON.stringify(level.value)}; use debug, info, warn or error`,
    );
  }
  const controllers = get("controllers");
  return {
    kind: "settings",
    settings: {
      servers,
      controllers: parseControllers(controllers.value, controllers.source),
      leaderElect: bool("leader-elect"),
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      leaseNamespace: get("leader-elect-resource-namespace").value,
      leaseName: get("leader-elect-resource-name").value,
      concurrentDeploymentSyncs: integer("concurrent-deployment-syncs", 1, 1000),
      concurrentReplicaSetSyncs: integer("concurrent-replicaset-syncs", 1, 1000),
      bindAddress: get("bind-address").value,
      healthPort: integer("secure-port", 0, 65535),
      logLevel: level.value as LogLevel,
    },
  };
}
