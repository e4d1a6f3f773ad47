// tug-scheduler's settings: kube-scheduler's flag names where it has them, each also settable
// as the environment variable TUG_SCHEDULER_<FLAG> and as a key of the --config file. A flag
// beats the environment, which beats the file, which beats the default. The config file is
// JSON (also valid YAML), a flat object keyed by the flag names:
// {"master": "127.0.0.1:6443", "leader-elect": false}. A bad value is a ConfigError naming
// the setting as the operator spelled it and the fix; the process exits 2 on one.

import {
  envVarName,
  type FlagSpec,
  type GatherOptions,
  type GatherResult,
  gatherSettings,
  type LogLevel,
  type SettingsCommand,
} from "@tug/daemon";
import { DEFAULT_SCHEDULER_NAME } from "../framework/profile.js";

export { ConfigError, parseDuration } from "@tug/daemon";

export const ENV_PREFIX = "TUG_SCHEDULER_";

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

/** TUG_SCHEDULER_ and the flag in upper snake case. */
export function envName(flag: string): string {
  return envVarName(ENV_PREFIX, flag);
}

const COMMAND: SettingsCommand = {
  name: "tug-scheduler",
  description: "The tug scheduler: binds pending pods to nodes through tug-apiserver.",
  helpAfter: [
    `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("master")}=127.0.0.1:6443,`,
    'or as a key of the --config JSON file, e.g. {"master": "127.0.0.1:6443"}. A flag wins over the',
    "environment, the environment over the file. Docs: docs/scheduler.md.",
  ].join("\n"),
  envPrefix: ENV_PREFIX,
  flags: FLAGS,
  configFlag: "config",
  configFormat: "json",
  configExample: '{"secure-port": 10259}',
};

export type ParseResult =
  | { readonly kind: "run"; readonly settings: SchedulerSettings }
  | Extract<GatherResult, { kind: "exit" }>;

/**
 * Parses `argv` (without node and the script), the environment and the config file. --help,
 * --version and flags commander rejects give an "exit" result; a bad value throws ConfigError.
 */
export function parseSettings(argv: readonly string[], options: GatherOptions = {}): ParseResult {
  const gathered = gatherSettings(COMMAND, argv, options);
  if (gathered.kind === "exit") return gathered;
  const s = gathered.settings;

  const master = s.list("master");
  if (master.length === 0) {
    s.problem(
      `--master is required: give tug-apiserver's address, e.g. --master=127.0.0.1:6443 (or ${envName("master")})`,
    );
  }
  for (const m of master) {
    if (!/^(https?:\/\/)?[^/\s]+:\d+\/?$/.test(m)) {
      s.problem(`${s.describe("master")} "${m}" is not an address like 127.0.0.1:6443`);
    }
  }
  const pctText = s.value("percentage-of-nodes-to-score");
  const pct = Number(pctText);
  if (!/^\d+$/.test(pctText) || pct > 100) {
    s.problem(
      `${s.describe("percentage-of-nodes-to-score")} "${pctText}" must be a whole number from 0 to 100`,
    );
  }
  if (s.value("scheduler-name") === "") {
    s.problem(
      `${s.describe("scheduler-name")} must not be empty; the default is ${DEFAULT_SCHEDULER_NAME}`,
    );
  }
  const settings: SchedulerSettings = {
    master,
    bindAddress: s.value("bind-address"),
    securePort: s.port("secure-port"),
    schedulerName: s.value("scheduler-name"),
    percentageOfNodesToScore: pct,
    podInitialBackoffMs: s.positiveDuration("pod-initial-backoff"),
    podMaxBackoffMs: s.positiveDuration("pod-max-backoff"),
    leaderElect: s.bool("leader-elect"),
    leaseDurationMs: s.positiveDuration("leader-elect-lease-duration"),
    renewDeadlineMs: s.positiveDuration("leader-elect-renew-deadline"),
    retryPeriodMs: s.positiveDuration("leader-elect-retry-period"),
    leaseNamespace: s.value("leader-elect-resource-namespace"),
    leaseName: s.value("leader-elect-resource-name"),
    logLevel: s.logLevel(),
  };
  if (s.problems.length === 0 && settings.podMaxBackoffMs < settings.podInitialBackoffMs) {
    s.problem(
      `${s.describe("pod-max-backoff")} must be at least --pod-initial-backoff (${s.value("pod-initial-backoff")})`,
    );
  }
  if (
    s.problems.length === 0 &&
    settings.leaderElect &&
    !(settings.leaseDurationMs > settings.renewDeadlineMs)
  ) {
    s.problem(
      `${s.describe("leader-elect-lease-duration")} must be greater than --leader-elect-renew-deadline`,
    );
  }
  s.check();
  return { kind: "run", settings };
}
