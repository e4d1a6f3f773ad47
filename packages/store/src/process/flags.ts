// tug-store's settings and where they come from. Every setting has three spellings:
//
//   flag         --election-timeout=1000   (etcd's flag names; -flag and --flag value work too)
//   environment  TUG_STORE_ELECTION_TIMEOUT=1000
//   config file  election-timeout: 1000    (YAML, keys as the flags without the dashes)
//
// A flag beats the environment, which beats the config file, which beats the default. (etcd
// itself ignores flags and environment once --config-file is given; layering them lets one
// file hold what members share while each member's flags say who it is.)
//
// This module only gathers raw values and remembers where each came from, so that a bad
// value can be reported by the spelling the operator used; ./config.ts validates them.

import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { parse as parseYaml } from "yaml";

export const ENV_PREFIX = "TUG_STORE_";

export interface FlagSpec {
  /** The flag without its dashes, e.g. "election-timeout"; also the config-file key. */
  readonly name: string;
  /** Shown in --help after the flag, e.g. "<ms>". */
  readonly arg: string;
  readonly description: string;
  /** The default, as it would be typed; undefined: none (see the description). */
  readonly default?: string;
}

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

const FLAG_NAMES = new Set(FLAGS.map((f) => f.name));

/** The environment variable of a flag: TUG_STORE_ and the name in upper snake case. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

export type SettingSource = "flag" | "env" | "file" | "default";

/** One setting's raw value and where it came from. */
export interface RawSetting {
  readonly value: string;
  readonly source: SettingSource;
}

export type RawSettings = ReadonlyMap<string, RawSetting>;

/** A problem found while gathering or validating settings, addressed to the operator. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** How a setting is named in messages: the flag, and the other spelling if that was used. */
export function describeSetting(
  flag: string,
  setting: RawSetting | undefined,
  file?: string,
): string {
  switch (setting?.source) {
    case "env":
      return `--${flag} (set by ${envName(flag)})`;
    case "file":
      return `--${flag} (set by "${flag}" in ${file ?? "the config file"})`;
    default:
      return `--${flag}`;
  }
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

export interface ParseOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Printed for --version. */
  readonly version?: string;
  /** Reads the config file; tests pass their own. */
  readonly readFile?: (path: string) => string;
}

function buildCommand(version: string): Command {
  const cmd = new Command("tug-store")
    .description(
      "One member of a tug-store cluster: a Raft-replicated key-value store that speaks the etcd v3 API.",
    )
    .addHelpText(
      "after",
      [
        "",
        `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envName("election-timeout")}=1000,`,
        "or as a key of the --config-file YAML, e.g. election-timeout: 1000. A flag wins over the",
        "environment, the environment over the file. Docs: docs/store.md.",
      ].join("\n"),
    )
    .version(version, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .allowExcessArguments(false)
    .exitOverride();
  cmd.addOption(new Option("--config-file <path>", "YAML file with settings (keys as the flags)"));
  for (const f of FLAGS) {
    const desc =
      f.default !== undefined ? `${f.description} (default: ${f.default})` : f.description;
    cmd.addOption(new Option(`--${f.name} ${f.arg}`, desc));
  }
  return cmd;
}

/** Go's flag package takes -flag as well as --flag; etcd users type both. */
function normalizeArgv(argv: readonly string[]): string[] {
  return argv.map((a) => (/^-[a-z][a-z-]+(=|$)/.test(a) ? `-${a}` : a));
}

/** The help text, for docs and --help. */
export function helpText(version = "0.0.0"): string {
  return buildCommand(version).helpInformation();
}

/**
 * Gathers settings from `argv` (without node and script), the environment and the config file
 * (--config-file, or TUG_STORE_CONFIG_FILE). Throws ConfigError for an unknown environment
 * variable or config key, or an unreadable config file.
 */
export function parseCommandLine(
  argv: readonly string[],
  options: ParseOptions = {},
): ParsedCommandLine {
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
    cmd.parse(normalizeArgv(argv), { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return { kind: "exit", code: 0, output: out, stream: "stdout" };
      return {
        kind: "exit",
        code: 2,
        output: `${err.trimEnd()}\nRun tug-store --help for the flags.\n`,
        stream: "stderr",
      };
    }
    throw e;
  }

  const problems: string[] = [];
  const settings = new Map<string, RawSetting>();
  const opts = cmd.opts<Record<string, string | undefined>>();

  // Lowest first, so later sources overwrite.
  for (const f of FLAGS) {
    if (f.default !== undefined) settings.set(f.name, { value: f.default, source: "default" });
  }

  const configFile = opts.configFile ?? emptyToUndefined(env[envName("config-file")]);
  if (configFile !== undefined) {
    const fromFile = readConfigFile(configFile, options.readFile, problems);
    for (const [k, v] of fromFile) settings.set(k, { value: v, source: "file" });
  }

  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const flag = key.slice(ENV_PREFIX.length).toLowerCase().replaceAll("_", "-");
    if (flag === "config-file") continue;
    if (!FLAG_NAMES.has(flag)) {
      problems.push(
        `${key} in the environment is not a tug-store setting${suggest(flag, (f) => ` (did you mean ${envName(f)}?)`)}; ` +
          `unset it or fix its name`,
      );
      continue;
    }
    settings.set(flag, { value, source: "env" });
  }

  for (const f of FLAGS) {
    const v = opts[cmd.options.find((o) => o.long === `--${f.name}`)?.attributeName() ?? ""];
    if (v !== undefined) settings.set(f.name, { value: v, source: "flag" });
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: "run", settings, configFile };
}

function emptyToUndefined(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}

/** The closest flag name to `name` (edit distance at most 3), rendered by `render`. */
function suggest(name: string, render: (flag: string) => string): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const f of FLAG_NAMES) {
    const d = editDistance(name, f);
    if (d < bestDistance) {
      best = f;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : render(best);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** A YAML value as a flag would spell it: lists comma-joined, numbers and booleans as text. */
function settingText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number")) {
    return value.join(",");
  }
  return undefined;
}

function readConfigFile(
  path: string,
  readFile: ((path: string) => string) | undefined,
  problems: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFile !== undefined ? readFile(path) : readFileSync(path, "utf8");
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    problems.push(`--config-file ${path} cannot be read (${why}); fix the path or create the file`);
    return out;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    problems.push(`--config-file ${path} is not valid YAML: ${why}`);
    return out;
  }
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    problems.push(
      `--config-file ${path} must be a YAML mapping of settings (e.g. "name: infra1"), not a ${Array.isArray(doc) ? "list" : typeof doc}`,
    );
    return out;
  }
  for (const [key, value] of Object.entries(doc)) {
    if (!FLAG_NAMES.has(key)) {
      problems.push(
        `"${key}" in ${path} is not a tug-store setting${suggest(key, (f) => ` (did you mean "${f}"?)`)}; ` +
          "remove it or fix its name (keys are the flags without the dashes)",
      );
      continue;
    }
    if (value === null || value === undefined) continue;
    const text = settingText(value);
    if (text === undefined) {
      problems.push(`"${key}" in ${path} must be a string, a number or a list of strings`);
      continue;
    }
    out.set(key, text);
  }
  return out;
}
