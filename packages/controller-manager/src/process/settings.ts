// tug-controller-manager's settings: kube-controller-manager's flag names where they exist,
// each also settable as the environment variable TUG_CONTROLLER_MANAGER_<FLAG> (upper case,
// dashes as underscores) and as a key of the JSON file given by --config. A flag beats the
// environment, which beats the file, which beats the default. Bad input is a ConfigError naming
// the setting as the operator spelled it, and the fix; the process exits 2.
// https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/

import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  ConfigError,
  envVarName,
  type FlagSpec,
  type GatherResult,
  gatherSettings,
  type LogLevel,
  parseDuration,
  type SettingsCommand,
  helpText as settingsHelpText,
} from "@tug/daemon";
import { parseCidr } from "../nodeipam/cidr-set.js";
import { DEFAULT_CLUSTER_CIDR } from "../nodeipam/node-ipam-controller.js";
import {
  type ClusterControllerSettings,
  type ControllerName,
  KNOWN_CONTROLLERS,
} from "./controller-manager.js";

export { ConfigError, parseDuration } from "@tug/daemon";

export const ENV_PREFIX = "TUG_CONTROLLER_MANAGER_";

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
  {
    name: "concurrent-job-syncs",
    arg: "<n>",
    description: "Jobs reconciled at once",
    default: "5",
  },
  {
    name: "concurrent-cron-job-syncs",
    arg: "<n>",
    description: "CronJobs reconciled at once",
    default: "5",
  },
  {
    name: "concurrent-daemonset-syncs",
    arg: "<n>",
    description: "DaemonSets reconciled at once",
    default: "2",
  },
  {
    name: "concurrent-statefulset-syncs",
    arg: "<n>",
    description: "StatefulSets reconciled at once",
    default: "5",
  },
  {
    name: "concurrent-ttl-after-finished-syncs",
    arg: "<n>",
    description: "finished Jobs checked for ttlSecondsAfterFinished at once",
    default: "5",
  },
  {
    name: "node-monitor-period",
    arg: "<duration>",
    description: "how often node health (Lease heartbeats, conditions) is checked",
    default: "5s",
  },
  {
    name: "node-monitor-grace-period",
    arg: "<duration>",
    description: "silence after which a node is marked NotReady (Unknown)",
    default: "50s",
  },
  {
    name: "node-startup-grace-period",
    arg: "<duration>",
    description: "silence allowed to a node that has never posted Ready",
    default: "1m",
  },
  {
    name: "node-eviction-rate",
    arg: "<nodes/s>",
    description: "nodes per second whose pods are evicted (NoExecute taint) in a healthy zone",
    default: "0.1",
  },
  {
    name: "secondary-node-eviction-rate",
    arg: "<nodes/s>",
    description: "eviction rate in an unhealthy zone of a large cluster",
    default: "0.01",
  },
  {
    name: "large-cluster-size-threshold",
    arg: "<n>",
    description: "nodes in a zone above which it is large (secondary rate instead of stopping)",
    default: "50",
  },
  {
    name: "unhealthy-zone-threshold",
    arg: "<fraction>",
    description: "share of NotReady nodes (at least 3) that makes a zone unhealthy",
    default: "0.55",
  },
  {
    name: "cluster-cidr",
    arg: "<cidr>",
    description: "range from which node IPAM gives each node its pod CIDR",
    default: DEFAULT_CLUSTER_CIDR,
  },
  {
    name: "node-cidr-mask-size",
    arg: "<bits>",
    description: "prefix length of each node's pod CIDR",
    default: "24",
  },
  {
    name: "resource-quota-sync-period",
    arg: "<duration>",
    description: "how often every ResourceQuota's usage is recomputed in full",
    default: "5m",
  },
  {
    name: "pvclaimbinder-sync-period",
    arg: "<duration>",
    description: "how often unbound claims and volumes are looked at again",
    default: "15s",
  },
  {
    name: "service-account-private-key-file",
    arg: "<path>",
    description:
      "PEM private key that signs service account tokens (serviceaccount-token runs only with one)",
    default: "",
  },
  {
    name: "root-ca-file",
    arg: "<path>",
    description: "CA bundle put as ca.crt into service account token Secrets",
    default: "",
  },
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
  /**
   * --concurrent-job-syncs, --concurrent-cron-job-syncs, --concurrent-daemonset-syncs,
   * --concurrent-statefulset-syncs, --concurrent-ttl-after-finished-syncs.
   */
  readonly concurrentSyncs: Partial<Record<ControllerName, number>>;
  /** The cluster controllers' timings and ranges (key and CA are paths here; see loadClusterSettings). */
  readonly cluster: Omit<ClusterControllerSettings, "serviceAccountSigningKey" | "rootCa">;
  /** --service-account-private-key-file; "" for none. */
  readonly serviceAccountPrivateKeyFile: string;
  /** --root-ca-file; "" for none. */
  readonly rootCaFile: string;
  readonly bindAddress: string;
  readonly healthPort: number;
  readonly logLevel: LogLevel;
}

export type ParseResult =
  | { readonly kind: "run"; readonly settings: ControllerManagerSettings }
  | Extract<GatherResult, { kind: "exit" }>;

/** The environment variable of a flag: TUG_CONTROLLER_MANAGER_LEADER_ELECT. */
export function envName(flag: string): string {
  return envVarName(ENV_PREFIX, flag);
}

const COMMAND: SettingsCommand = {
  name: "tug-controller-manager",
  description: [
    "Runs tug's controllers against tug-apiserver; with several replicas one leads",
    "(Lease kube-system/kube-controller-manager) and the others stand by.",
  ].join("\n"),
  helpAfter: [
    `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("leader-elect")}=false,`,
    'or as a key of the --config JSON file, e.g. {"node-monitor-grace-period": "50s"}. A flag wins',
    "over the environment, the environment over the file. Docs: docs/controller-manager.md.",
  ].join("\n"),
  envPrefix: ENV_PREFIX,
  flags: FLAGS,
  configFlag: "config",
  configFormat: "json",
  configExample: '{"node-monitor-period": "5s"}',
  aliases: { server: "master" },
};

/** --help text. */
export function helpText(version = "0.0.0"): string {
  return settingsHelpText(COMMAND, version);
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
      throw new ConfigError([
        `${source}: unknown controller ${JSON.stringify(name)}; known controllers: ${KNOWN_CONTROLLERS.join(", ")} (or "*")`,
      ]);
    }
    if (item.startsWith("-")) enabled.delete(name as ControllerName);
    else enabled.add(name as ControllerName);
  }
  return KNOWN_CONTROLLERS.filter((c) => enabled.has(c));
}

/**
 * Parses `argv` (without node and the script) and the environment into settings. --help and
 * --version give an "exit" result; a bad value throws ConfigError.
 */
export function parseSettings(
  argv: readonly string[],
  options: {
    /** Default: none (tests); the process passes process.env. */
    env?: Readonly<Record<string, string | undefined>>;
    version?: string;
    /** Reads the --config file (tests); default fs.readFileSync as UTF-8. */
    readFile?: (path: string) => string;
  } = {},
): ParseResult {
  const gathered = gatherSettings(COMMAND, argv, { ...options, env: options.env ?? {} });
  if (gathered.kind === "exit") return gathered;
  const gatheredSettings = gathered.settings;
  gatheredSettings.check();
  /** A setting's text and where it came from, as kube-controller-manager's messages name it. */
  const get = (name: string): { value: string; source: string } => {
    const raw = gatheredSettings.raw(name);
    const value = raw?.value ?? "";
    switch (raw?.source) {
      case "env":
        return { value, source: envName(name) };
      case "file":
        return { value, source: `"${name}" in ${gatheredSettings.configFile}` };
      default:
        return { value, source: `--${name}` };
    }
  };
  const duration = (name: string): number => {
    const { value, source } = get(name);
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      throw new ConfigError([
        `${source}: invalid duration ${JSON.stringify(value)}; use a positive Go duration such as 15s or 1m30s`,
      ]);
    }
    return ms;
  };
  const integer = (name: string, min: number, max: number): number => {
    const { value, source } = get(name);
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new ConfigError([
        `${source}: invalid value ${JSON.stringify(value)}; use an integer from ${min} to ${max}`,
      ]);
    }
    return n;
  };
  const fraction = (name: string, max: number): number => {
    const { value, source } = get(name);
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n > max) {
      throw new ConfigError([
        `${source}: invalid value ${JSON.stringify(value)}; use a number from 0 to ${max}`,
      ]);
    }
    return n;
  };
  const bool = (name: string): boolean => {
    const { value, source } = get(name);
    if (value === "true") return true;
    if (value === "false") return false;
    throw new ConfigError([`${source}: invalid value ${JSON.stringify(value)}; use true or false`]);
  };
  const master = get("master");
  const servers = master.value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (servers.length === 0) {
    throw new ConfigError([
      `${master.source}: empty; give tug-apiserver addresses such as 127.0.0.1:6443`,
    ]);
  }
  const leaseDurationMs = duration("leader-elect-lease-duration");
  const renewDeadlineMs = duration("leader-elect-renew-deadline");
  const retryPeriodMs = duration("leader-elect-retry-period");
  if (renewDeadlineMs >= leaseDurationMs) {
    throw new ConfigError([
      "--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration, or a stalled leader could outlive its lease",
    ]);
  }
  if (retryPeriodMs >= renewDeadlineMs) {
    throw new ConfigError([
      "--leader-elect-retry-period must be shorter than --leader-elect-renew-deadline, or renewal gets no retry",
    ]);
  }
  const level = get("log-level");
  if (!["debug", "info", "warn", "error"].includes(level.value)) {
    throw new ConfigError([
      `${level.source}: invalid level ${JSON.stringify(level.value)}; use debug, info, warn or error`,
    ]);
  }
  const controllers = get("controllers");
  const cidr = get("cluster-cidr");
  let range: { prefix: number; bits: number };
  try {
    range = parseCidr(cidr.value, cidr.source);
  } catch (error) {
    throw new ConfigError([error instanceof Error ? error.message : String(error)]);
  }
  const maskSize = get("node-cidr-mask-size");
  const nodeCidrMaskSize = integer("node-cidr-mask-size", 1, 128);
  if (nodeCidrMaskSize < range.prefix || nodeCidrMaskSize > range.bits) {
    throw new ConfigError([
      `${maskSize.source}: ${nodeCidrMaskSize} does not fit the cluster CIDR ${cidr.value}; use a prefix length from ${range.prefix} to ${range.bits}`,
    ]);
  }
  return {
    kind: "run",
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
      concurrentSyncs: {
        job: integer("concurrent-job-syncs", 1, 1000),
        cronjob: integer("concurrent-cron-job-syncs", 1, 1000),
        daemonset: integer("concurrent-daemonset-syncs", 1, 1000),
        statefulset: integer("concurrent-statefulset-syncs", 1, 1000),
        "ttl-after-finished": integer("concurrent-ttl-after-finished-syncs", 1, 1000),
      },
      cluster: {
        nodeMonitorPeriodMs: duration("node-monitor-period"),
        nodeMonitorGracePeriodMs: duration("node-monitor-grace-period"),
        nodeStartupGracePeriodMs: duration("node-startup-grace-period"),
        nodeEvictionRate: fraction("node-eviction-rate", 1e6),
        secondaryNodeEvictionRate: fraction("secondary-node-eviction-rate", 1e6),
        largeClusterSizeThreshold: integer("large-cluster-size-threshold", 0, 1_000_000),
        unhealthyZoneThreshold: fraction("unhealthy-zone-threshold", 1),
        clusterCidr: cidr.value,
        nodeCidrMaskSize,
        resourceQuotaSyncPeriodMs: duration("resource-quota-sync-period"),
        pvClaimBinderSyncPeriodMs: duration("pvclaimbinder-sync-period"),
      },
      serviceAccountPrivateKeyFile: get("service-account-private-key-file").value,
      rootCaFile: get("root-ca-file").value,
      bindAddress: get("bind-address").value,
      healthPort: integer("secure-port", 0, 65535),
      logLevel: level.value as LogLevel,
    },
  };
}

/**
 * The ControllerManager's cluster settings: the parsed timings plus the service account signing
 * key and root CA read from their files. A file that cannot be read or parsed is a ConfigError.
 */
export function loadClusterSettings(
  settings: ControllerManagerSettings,
  readFile: (path: string) => Buffer = (p) => readFileSync(p),
): ClusterControllerSettings {
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFile(path);
    } catch (error) {
      throw new ConfigError([
        `--${flag} ${path}: cannot be read (${error instanceof Error ? error.message : String(error)}); fix the path or its permissions`,
      ]);
    }
  };
  const loaded: { -readonly [K in keyof ClusterControllerSettings]: ClusterControllerSettings[K] } =
    { ...settings.cluster };
  if (settings.serviceAccountPrivateKeyFile !== "") {
    const pem = read("service-account-private-key-file", settings.serviceAccountPrivateKeyFile);
    try {
      loaded.serviceAccountSigningKey = createPrivateKey(pem);
    } catch (error) {
      throw new ConfigError([
        `--service-account-private-key-file ${settings.serviceAccountPrivateKeyFile}: not a PEM private key (${error instanceof Error ? error.message : String(error)}); give an RSA or EC private key`,
      ]);
    }
  }
  if (settings.rootCaFile !== "") {
    loaded.rootCa = new Uint8Array(read("root-ca-file", settings.rootCaFile));
  }
  return loaded;
}
