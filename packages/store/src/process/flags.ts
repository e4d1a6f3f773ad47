// tug-store's settings and where they come from. Every setting has three spellings:
//
//   flag         --election-timeout=1000   (etcd's flag names; -flag and --flag value work too)
//   environment  TUG_STORE_ELECTION_TIMEOUT=1000
//   config file  election-timeout: 1000    (YAML, keys as the flags without the dashes)
//
// A flag beats the environment, which beats the config file, which beats the default (etcd
// itself ignores flags and environment once --config-file is given; layering them lets one
// file hold what members share while each member's flags say who it is). The layering is
// @tug/daemon's (docs/daemon.md); this module holds tug-store's flag table, and ./config.ts
// validates the raw values gathered.

import {
  envVarName,
  type FlagSpec,
  type GatherOptions,
  gatherSettings,
  type RawSetting,
  type RawSettings,
  type SettingsCommand,
  describeSetting as settingDescription,
  helpText as settingsHelpText,
} from "@tug/daemon";

export {
  ConfigError,
  type FlagSpec,
  type RawSetting,
  type RawSettings,
  type SettingSource,
} from "@tug/daemon";

export const ENV_PREFIX = "TUG_STORE_";

/** Every setting, in --help order. */
export const FLAGS: readonly FlagSpec[] = [
  { name: "name", arg: "<name>", description: "this member's name", default: "default" },
  {
    name: "data-dir",
    arg: "<dir>",
    description: "where the WAL and snapshots live (default: <name>.tug-store)",
  },
  {
    name: "listen-client-urls",
    arg: "<urls>",
    description: "URLs to serve the etcd v3 gRPC API on, comma-separated",
    default: "http://127.0.0.1:2379",
  },
  {
    name: "advertise-client-urls",
    arg: "<urls>",
    description: "client URLs this member tells the cluster (member list)",
    default: "http://127.0.0.1:2379",
  },
  {
    name: "listen-peer-urls",
    arg: "<urls>",
    description: "the URL to serve Raft peer traffic on (one)",
    default: "http://127.0.0.1:2380",
  },
  {
    name: "initial-advertise-peer-urls",
    arg: "<urls>",
    description: "peer URLs of this member as the other members reach them",
    default: "http://127.0.0.1:2380",
  },
  {
    name: "initial-cluster",
    arg: "<name=url,...>",
    description:
      "every member at bootstrap, e.g. a=http://10.0.0.1:2380,b=http://10.0.0.2:2380 " +
      "(default: this member alone, <name>=<initial-advertise-peer-urls>)",
  },
  {
    name: "initial-cluster-state",
    arg: "<new|existing>",
    description: "new: bootstrap a cluster; existing: join one this member was added to",
    default: "new",
  },
  {
    name: "initial-cluster-token",
    arg: "<token>",
    description: "distinguishes clusters bootstrapped from the same --initial-cluster",
    default: "etcd-cluster",
  },
  {
    name: "heartbeat-interval",
    arg: "<ms>",
    description: "leader heartbeat interval; also Raft's tick",
    default: "100",
  },
  {
    name: "election-timeout",
    arg: "<ms>",
    description:
      "how long a follower waits for its leader before it campaigns; a multiple of --heartbeat-interval",
    default: "1000",
  },
  {
    name: "snapshot-count",
    arg: "<n>",
    description: "applied entries between snapshots (the log is truncated behind a snapshot)",
    default: "100000",
  },
  {
    name: "max-request-bytes",
    arg: "<bytes>",
    description: "largest client request accepted",
    default: String(1.5 * 1024 * 1024),
  },
  {
    name: "max-txn-ops",
    arg: "<n>",
    description: "most operations in one txn",
    default: "128",
  },
  {
    name: "listen-metrics-urls",
    arg: "<urls>",
    description: "URLs to serve /healthz, /readyz, /metrics and /raft on",
    default: "http://127.0.0.1:2381",
  },
  {
    name: "log-level",
    arg: "<level>",
    description: "debug, info, warn or error",
    default: "info",
  },
];

/** The environment variable of a flag: TUG_STORE_ and the name in upper snake case. */
export function envName(flag: string): string {
  return envVarName(ENV_PREFIX, flag);
}

const COMMAND: SettingsCommand = {
  name: "tug-store",
  description:
    "One member of a tug-store cluster: a Raft-replicated key-value store that speaks the etcd v3 API.",
  helpAfter: [
    `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("election-timeout")}=1000,`,
    "or as a key of the --config-file YAML, e.g. election-timeout: 1000. A flag wins over the",
    "environment, the environment over the file. Docs: docs/store.md.",
  ].join("\n"),
  envPrefix: ENV_PREFIX,
  flags: FLAGS,
  configFlag: "config-file",
  configFormat: "yaml",
  configExample: '"name: infra1"',
  singleDashFlags: true,
};

/** How a setting is named in messages: the flag, and the other spelling if that was used. */
export function describeSetting(
  flag: string,
  setting: RawSetting | undefined,
  file?: string,
): string {
  return settingDescription(ENV_PREFIX, flag, setting, file);
}

export type ParsedCommandLine =
  | {
      readonly kind: "run";
      readonly settings: RawSettings;
      /** The config file read, if any. */
      readonly configFile: string | undefined;
    }
  /** --help, --version, or a usage error: print `output`, exit with `code`. */
  | {
      readonly kind: "exit";
      readonly code: number;
      readonly output: string;
      readonly stream: "stdout" | "stderr";
    };

/** The help text, for docs and --help. */
export function helpText(version = "0.0.0"): string {
  return settingsHelpText(COMMAND, version);
}

/**
 * Gathers settings from `argv` (without node and script), the environment and the config file
 * (--config-file, or TUG_STORE_CONFIG_FILE). Throws ConfigError for an unknown environment
 * variable or config key, or an unreadable config file.
 */
export function parseCommandLine(
  argv: readonly string[],
  options: GatherOptions = {},
): ParsedCommandLine {
  const gathered = gatherSettings(COMMAND, argv, options);
  if (gathered.kind === "exit") return gathered;
  gathered.settings.check();
  return {
    kind: "run",
    settings: gathered.settings.settings,
    configFile: gathered.settings.configFile,
  };
}
