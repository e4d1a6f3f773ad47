// tug-apiserver's settings: kube-apiserver's flag names where they exist, each also settable as
// the environment variable TUG_APISERVER_<FLAG> and as a key of the YAML --config file. A flag
// beats the environment, which beats the file, which beats the default (the layering tug-store
// uses, docs/store.md). Bad input is a ConfigError naming the setting, as the operator spelled
// it, and the fix; the process exits 2 on one.

import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { IpRange } from "../allocation/ip-range.js";
import { PortRange } from "../allocation/port-range.js";
import {
  type AuthenticationConfig,
  parseTokenFile,
  publicKeysFromPem,
  type UserInfo,
} from "../authn/index.js";

export const ENV_PREFIX = "TUG_APISERVER_";

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
    name: "etcd-servers",
    arg: "<urls>",
    description: "etcd v3 client URLs of the store (tug-store or etcd), comma-separated; required",
  },
  {
    name: "etcd-prefix",
    arg: "<prefix>",
    description: "the key prefix objects are stored under",
    default: "/registry",
  },
  {
    name: "bind-address",
    arg: "<ip>",
    description: "the address to serve the API on",
    default: "0.0.0.0",
  },
  {
    name: "secure-port",
    arg: "<port>",
    description:
      "the port to serve the API on: plain (unencrypted) gRPC until TLS and authentication land",
    default: "6443",
  },
  {
    name: "health-port",
    arg: "<port>",
    description: "the port of the HTTP /healthz, /readyz and /metrics endpoints (0: off)",
    default: "6444",
  },
  {
    name: "event-ttl",
    arg: "<duration>",
    description: "how long events are kept after their last write, e.g. 1h, 30m",
    default: "1h",
  },
  {
    name: "service-cluster-ip-range",
    arg: "<cidr>",
    description: "the IPv4 CIDR Services' cluster IPs are allocated from",
    default: "10.96.0.0/12",
  },
  {
    name: "service-node-port-range",
    arg: "<min-max>",
    description: "the ports NodePort Services' node ports are allocated from",
    default: "30000-32767",
  },
  {
    name: "advertise-address",
    arg: "<ip>",
    description:
      "this server's address in the kubernetes Service's Endpoints (default: --bind-address, else the host's first non-loopback IPv4)",
  },
  {
    name: "etcd-compaction-interval",
    arg: "<duration>",
    description: "how often the store's history is compacted (0: never), e.g. 5m",
    default: "5m",
  },
  {
    name: "max-requests-inflight",
    arg: "<n>",
    description:
      "most read-only requests (get, list) served at once; more get 429 TooManyRequests (0: no limit)",
    default: "400",
  },
  {
    name: "max-mutating-requests-inflight",
    arg: "<n>",
    description:
      "most mutating requests (create, update, patch, delete, ...) served at once; more get 429 (0: no limit)",
    default: "200",
  },
  {
    name: "default-not-ready-toleration-seconds",
    arg: "<seconds>",
    description:
      "tolerationSeconds of the node.kubernetes.io/not-ready:NoExecute toleration added to pods without one",
    default: "300",
  },
  {
    name: "default-unreachable-toleration-seconds",
    arg: "<seconds>",
    description:
      "tolerationSeconds of the node.kubernetes.io/unreachable:NoExecute toleration added to pods without one",
    default: "300",
  },
  {
    name: "token-auth-file",
    arg: "<file>",
    description:
      'static bearer tokens: a CSV file of token,user,uid[,"group1,group2"]; unset: no static tokens',
  },
  {
    name: "service-account-key-file",
    arg: "<files>",
    description:
      "PEM files (comma-separated) with the public (or private) keys that verify service account tokens; unset: service account tokens are not accepted",
  },
  {
    name: "service-account-issuer",
    arg: "<issuers>",
    description:
      'issuers (comma-separated) accepted in service account tokens besides the legacy "kubernetes/serviceaccount"',
  },
  {
    name: "service-account-lookup",
    arg: "<bool>",
    description: "refuse a service account token whose Secret or ServiceAccount no longer exists",
    default: "true",
  },
  {
    name: "anonymous-auth",
    arg: "<bool>",
    description:
      "serve requests without credentials as system:anonymous (a request with bad credentials gets 401 either way)",
    default: "true",
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

/** The validated settings. */
export interface ApiServerSettings {
  readonly etcdServers: readonly string[];
  readonly etcdPrefix: string;
  readonly bindAddress: string;
  readonly securePort: number;
  readonly healthPort: number;
  readonly eventTtlSeconds: number;
  readonly serviceClusterIpRange: string;
  readonly serviceNodePortRange: string;
  readonly advertiseAddress?: string;
  readonly compactionIntervalMs: number;
  readonly maxRequestsInflight: number;
  readonly maxMutatingRequestsInflight: number;
  readonly authentication: AuthenticationSettings;
  /** --default-not-ready-toleration-seconds, --default-unreachable-toleration-seconds. */
  readonly defaultNotReadyTolerationSeconds: number;
  readonly defaultUnreachableTolerationSeconds: number;
  readonly logLevel: LogLevel;
}

/** The authenticators' configuration, with their files already read and checked. */
export type AuthenticationSettings = AuthenticationConfig;

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

/** TUG_APISERVER_ and the flag in upper snake case. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

type Source = "flag" | "env" | "file" | "default";

export type ParseResult =
  | { readonly kind: "run"; readonly settings: ApiServerSettings }
  | {
      readonly kind: "exit";
      readonly code: number;
      readonly output: string;
      readonly stream: "stdout" | "stderr";
    };

function buildCommand(version: string): Command {
  const cmd = new Command("tug-apiserver")
    .description(
      "The tug API server: Kubernetes' API over gRPC, stored in an etcd v3 store (tug-store or etcd).",
    )
    .addHelpText(
      "after",
      [
        "",
        `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("etcd-servers")}=http://127.0.0.1:2379,`,
        "or as a key of the --config YAML file, e.g. etcd-servers: [http://127.0.0.1:2379]. A flag wins",
        "over the environment, the environment over the file. The API is plain gRPC for now (no TLS,",
        "no authentication): bind it to a trusted network. Docs: docs/apiserver.md.",
      ].join("\n"),
    )
    .version(version, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .allowExcessArguments(false)
    .exitOverride();
  cmd.addOption(new Option("--config <path>", "YAML file with settings (keys as the flags)"));
  for (const f of FLAGS) {
    const desc =
      f.default === undefined ? f.description : `${f.description} (default: ${f.default})`;
    cmd.addOption(new Option(`--${f.name} ${f.arg}`, desc));
  }
  return cmd;
}

/** The help text (for --help and docs). */
export function helpText(version = "0.0.0"): string {
  return buildCommand(version).helpInformation();
}

/**
 * Go durations as kube-apiserver takes them: "1h", "5m", "30s", "1h30m", "250ms", "0".
 * Returns milliseconds, or undefined if `s` is not one.
 */
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

/**
 * Parses `argv` (without node and the script), the environment and the config file into
 * settings. --help and --version, and flags commander rejects, give an "exit" result; a bad
 * value throws ConfigError.
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
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return { kind: "exit", code: 0, output: out, stream: "stdout" };
      return {
        kind: "exit",
        code: 2,
        output: `${err.trimEnd()}\nRun tug-apiserver --help for the flags.\n`,
        stream: "stderr",
      };
    }
    throw e;
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
        `${key} in the environment is not a tug-apiserver setting; unset it or fix its name`,
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
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) {
      problems.push(`${describe(flag)} "${v}" is not a port; give a number from 0 to 65535`);
      return 0;
    }
    return n;
  };
  const count = (flag: string): number => {
    const v = value(flag);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      problems.push(`${describe(flag)} "${v}" is not a count; give 0 (no limit) or more, e.g. 400`);
      return 0;
    }
    return Number(v);
  };
  const duration = (flag: string): number => {
    const ms = parseDuration(value(flag));
    if (ms === undefined) {
      problems.push(
        `${describe(flag)} "${value(flag)}" is not a duration; write it as Go does, e.g. 1h, 5m, 30s`,
      );
      return 0;
    }
    return ms;
  };

  const etcdServers = value("etcd-servers")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (etcdServers.length === 0) {
    problems.push(
      `--etcd-servers is required: give the store's client URLs, e.g. --etcd-servers=http://127.0.0.1:2379 (or ${envName("etcd-servers")})`,
    );
  }
  for (const s of etcdServers) {
    if (!/^(https?:\/\/)?[^/:\s]+:\d+\/?$/.test(s)) {
      problems.push(`${describe("etcd-servers")} "${s}" is not a URL like http://127.0.0.1:2379`);
    }
  }
  const prefix = value("etcd-prefix");
  if (!prefix.startsWith("/") || prefix.endsWith("/")) {
    problems.push(
      `${describe("etcd-prefix")} "${prefix}" must start with / and not end with one, e.g. /registry`,
    );
  }
  const bool = (flag: string): boolean => {
    const v = value(flag);
    if (v !== "true" && v !== "false") {
      problems.push(`${describe(flag)} "${v}" is not a boolean; give true or false`);
      return false;
    }
    return v === "true";
  };
  const list = (flag: string): string[] =>
    value(flag)
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== "");
  const read = options.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const readSetting = (flag: string, path: string): string | undefined => {
    try {
      return read(path);
    } catch (e) {
      problems.push(
        `${describe(flag)} "${path}" cannot be read (${e instanceof Error ? e.message : String(e)}); give a readable file`,
      );
      return undefined;
    }
  };
  let tokens: ReadonlyMap<string, UserInfo> | undefined;
  const tokenFile = value("token-auth-file");
  if (tokenFile !== "") {
    const text = readSetting("token-auth-file", tokenFile);
    if (text !== undefined) {
      try {
        tokens = parseTokenFile(text, `${describe("token-auth-file")} ${tokenFile}`);
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
  }
  const serviceAccountKeys: KeyObject[] = [];
  for (const file of list("service-account-key-file")) {
    const pem = readSetting("service-account-key-file", file);
    if (pem === undefined) continue;
    try {
      serviceAccountKeys.push(
        ...publicKeysFromPem(pem, `${describe("service-account-key-file")} ${file}`),
      );
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  const authentication: AuthenticationSettings = {
    ...(tokens === undefined ? {} : { tokens }),
    serviceAccountKeys,
    serviceAccountIssuers: list("service-account-issuer"),
    serviceAccountLookup: bool("service-account-lookup"),
    anonymous: bool("anonymous-auth"),
  };
  const logLevel = value("log-level");
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`${describe("log-level")} "${logLevel}" is not one of ${LOG_LEVELS.join(", ")}`);
  }
  /** A range flag's value, normalized; its parse error becomes a problem. */
  const range = (name: string, parse: (text: string) => { toString(): string }): string => {
    try {
      const parsed = parse(value(name));
      return "cidr" in parsed ? String(parsed.cidr) : parsed.toString();
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
      return value(name);
    }
  };
  const settings: ApiServerSettings = {
    etcdServers,
    etcdPrefix: prefix,
    bindAddress: value("bind-address"),
    securePort: port("secure-port"),
    healthPort: port("health-port"),
    eventTtlSeconds: Math.floor(duration("event-ttl") / 1000),
    serviceClusterIpRange: range("service-cluster-ip-range", IpRange.parse),
    serviceNodePortRange: range("service-node-port-range", PortRange.parse),
    ...(value("advertise-address") === "" ? {} : { advertiseAddress: value("advertise-address") }),
    compactionIntervalMs: duration("etcd-compaction-interval"),
    maxRequestsInflight: count("max-requests-inflight"),
    maxMutatingRequestsInflight: count("max-mutating-requests-inflight"),
    authentication,
    defaultNotReadyTolerationSeconds: count("default-not-ready-toleration-seconds"),
    defaultUnreachableTolerationSeconds: count("default-unreachable-toleration-seconds"),
    logLevel: logLevel as LogLevel,
  };
  if (settings.eventTtlSeconds <= 0 && problems.length === 0) {
    problems.push(`${describe("event-ttl")} must be at least 1s`);
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
    doc = parseYaml(readFile !== undefined ? readFile(path) : readFileSync(path, "utf8"));
  } catch (e) {
    problems.push(
      `--config ${path} cannot be read as YAML (${(e as Error).message.split("\n")[0]}); fix the path or the file`,
    );
    return out;
  }
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    problems.push(`--config ${path} must be a YAML mapping of settings, e.g. "secure-port: 6443"`);
    return out;
  }
  for (const [key, v] of Object.entries(doc)) {
    if (!FLAG_NAMES.has(key)) {
      problems.push(
        `"${key}" in ${path} is not a tug-apiserver setting; remove it or fix its name (keys are the flags without the dashes)`,
      );
      continue;
    }
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      out.set(key, String(v));
    } else if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
      out.set(key, v.join(","));
    } else {
      problems.push(`"${key}" in ${path} must be a string, a number or a list of strings`);
    }
  }
  return out;
}
