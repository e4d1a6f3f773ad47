// tug-apiserver's settings: kube-apiserver's flag names where they exist, each also settable as
// the environment variable TUG_APISERVER_<FLAG> and as a key of the YAML --config file. A flag
// beats the environment, which beats the file, which beats the default (@tug/daemon's
// layering, docs/daemon.md). Bad input is a ConfigError naming the setting, as the operator spelled
// it, and the fix; the process exits 2 on one.

import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  envVarName,
  type FlagSpec,
  type GatherOptions,
  type GatherResult,
  gatherSettings,
  type LogLevel,
  type SettingsCommand,
  helpText as settingsHelpText,
} from "@tug/daemon";
import { IpRange } from "../allocation/ip-range.js";
import { PortRange } from "../allocation/port-range.js";
import {
  type AuthenticationConfig,
  parseTokenFile,
  publicKeysFromPem,
  type UserInfo,
} from "../authn/index.js";

export { ConfigError, parseDuration } from "@tug/daemon";

export const ENV_PREFIX = "TUG_APISERVER_";

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
    description: "the port to serve the API on: plain (unencrypted) gRPC until TLS lands",
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

/** TUG_APISERVER_ and the flag in upper snake case. */
export function envName(flag: string): string {
  return envVarName(ENV_PREFIX, flag);
}

const COMMAND: SettingsCommand = {
  name: "tug-apiserver",
  description:
    "The tug API server: Kubernetes' API over gRPC, stored in an etcd v3 store (tug-store or etcd).",
  helpAfter: [
    `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("etcd-servers")}=http://127.0.0.1:2379,`,
    "or as a key of the --config YAML file, e.g. etcd-servers: [http://127.0.0.1:2379]. A flag wins",
    "over the environment, the environment over the file. The API is plain gRPC for now (no TLS,",
    "no authorization): bind it to a trusted network. Docs: docs/apiserver.md.",
  ].join("\n"),
  envPrefix: ENV_PREFIX,
  flags: FLAGS,
  configFlag: "config",
  configFormat: "yaml",
  configExample: '"secure-port: 6443"',
};

export type ParseResult =
  | { readonly kind: "run"; readonly settings: ApiServerSettings }
  | Extract<GatherResult, { kind: "exit" }>;

/** The help text (for --help and docs). */
export function helpText(version = "0.0.0"): string {
  return settingsHelpText(COMMAND, version);
}

/**
 * Parses `argv` (without node and the script), the environment and the config file into
 * settings. --help and --version, and flags commander rejects, give an "exit" result; a bad
 * value throws ConfigError.
 */
export function parseSettings(argv: readonly string[], options: GatherOptions = {}): ParseResult {
  const gathered = gatherSettings(COMMAND, argv, options);
  if (gathered.kind === "exit") return gathered;
  const s = gathered.settings;

  const etcdServers = s.list("etcd-servers");
  if (etcdServers.length === 0) {
    s.problem(
      `--etcd-servers is required: give the store's client URLs, e.g. --etcd-servers=http://127.0.0.1:2379 (or ${envName("etcd-servers")})`,
    );
  }
  for (const url of etcdServers) {
    if (!/^(https?:\/\/)?[^/:\s]+:\d+\/?$/.test(url)) {
      s.problem(`${s.describe("etcd-servers")} "${url}" is not a URL like http://127.0.0.1:2379`);
    }
  }
  const prefix = s.value("etcd-prefix");
  if (!prefix.startsWith("/") || prefix.endsWith("/")) {
    s.problem(
      `${s.describe("etcd-prefix")} "${prefix}" must start with / and not end with one, e.g. /registry`,
    );
  }
  const read = options.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const readSetting = (flag: string, path: string): string | undefined => {
    try {
      return read(path);
    } catch (e) {
      s.problem(
        `${s.describe(flag)} "${path}" cannot be read (${e instanceof Error ? e.message : String(e)}); give a readable file`,
      );
      return undefined;
    }
  };
  let tokens: ReadonlyMap<string, UserInfo> | undefined;
  const tokenFile = s.value("token-auth-file");
  if (tokenFile !== "") {
    const text = readSetting("token-auth-file", tokenFile);
    if (text !== undefined) {
      try {
        tokens = parseTokenFile(text, `${s.describe("token-auth-file")} ${tokenFile}`);
      } catch (e) {
        s.problem(e instanceof Error ? e.message : String(e));
      }
    }
  }
  const serviceAccountKeys: KeyObject[] = [];
  for (const file of s.list("service-account-key-file")) {
    const pem = readSetting("service-account-key-file", file);
    if (pem === undefined) continue;
    try {
      serviceAccountKeys.push(
        ...publicKeysFromPem(pem, `${s.describe("service-account-key-file")} ${file}`),
      );
    } catch (e) {
      s.problem(e instanceof Error ? e.message : String(e));
    }
  }
  const authentication: AuthenticationSettings = {
    ...(tokens === undefined ? {} : { tokens }),
    serviceAccountKeys,
    serviceAccountIssuers: s.list("service-account-issuer"),
    serviceAccountLookup: s.bool("service-account-lookup"),
    anonymous: s.bool("anonymous-auth"),
  };
  /** A range flag's value, normalized; its parse error becomes a problem. */
  const range = (name: string, parse: (text: string) => { toString(): string }): string => {
    try {
      const parsed = parse(s.value(name));
      return "cidr" in parsed ? String(parsed.cidr) : parsed.toString();
    } catch (e) {
      s.problem(e instanceof Error ? e.message : String(e));
      return s.value(name);
    }
  };
  const settings: ApiServerSettings = {
    etcdServers,
    etcdPrefix: prefix,
    bindAddress: s.value("bind-address"),
    securePort: s.port("secure-port"),
    healthPort: s.port("health-port"),
    eventTtlSeconds: Math.floor(s.duration("event-ttl") / 1000),
    serviceClusterIpRange: range("service-cluster-ip-range", IpRange.parse),
    serviceNodePortRange: range("service-node-port-range", PortRange.parse),
    ...(s.value("advertise-address") === ""
      ? {}
      : { advertiseAddress: s.value("advertise-address") }),
    compactionIntervalMs: s.duration("etcd-compaction-interval"),
    maxRequestsInflight: s.count("max-requests-inflight", " (no limit)"),
    maxMutatingRequestsInflight: s.count("max-mutating-requests-inflight", " (no limit)"),
    authentication,
    defaultNotReadyTolerationSeconds: s.count("default-not-ready-toleration-seconds"),
    defaultUnreachableTolerationSeconds: s.count("default-unreachable-toleration-seconds"),
    logLevel: s.logLevel(),
  };
  if (settings.eventTtlSeconds <= 0 && s.problems.length === 0) {
    s.problem(`${s.describe("event-ttl")} must be at least 1s`);
  }
  s.check();
  return { kind: "run", settings };
}
