// Where each setting comes from: a flag beats the environment, which beats the config file,
// which beats the default (etcd itself ignores flags and environment once --config-file is
// given; layering them lets one file hold what replicas share while each one's flags say who
// it is). Only raw text is gathered here, with its source, so that a bad value can be
// reported by the spelling the operator used; ./settings-reader.ts turns text into values.

import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { closestName } from "./closest-name.js";
import { readConfigFile } from "./config-file.js";
import type { RawSetting } from "./raw-setting.js";
import { buildCommand, envVarName, type SettingsCommand } from "./settings-command.js";
import { SettingsReader } from "./settings-reader.js";

export interface GatherOptions {
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Printed for --version. */
  readonly version?: string;
  /** Reads the config file; tests pass their own. Default: the file as UTF-8. */
  readonly readFile?: (path: string) => string;
}

export type GatherResult =
  | { readonly kind: "run"; readonly settings: SettingsReader }
  /** --help, --version, or a usage error: print `output` on `stream`, exit with `code`. */
  | {
      readonly kind: "exit";
      readonly code: number;
      readonly output: string;
      readonly stream: "stdout" | "stderr";
    };

/** Go's flag package takes -flag as well as --flag; etcd users type both. */
function doubleDashed(argv: readonly string[]): string[] {
  return argv.map((a) => (/^-[a-z][a-z-]+(=|$)/.test(a) ? `-${a}` : a));
}

/**
 * Gathers `command`'s settings from `argv` (without node and the script), the environment and
 * the config file (--<configFlag>, or its environment variable). --help, --version and usage
 * errors (an unknown flag, a stray argument: exit 2) give an "exit" result. An unknown
 * environment variable with the daemon's prefix, an unknown config key or an unreadable file
 * is a problem recorded in the returned reader, not thrown, so that one ConfigError can list
 * it with the bad values found after it.
 */
export function gatherSettings(
  command: SettingsCommand,
  argv: readonly string[],
  options: GatherOptions = {},
): GatherResult {
  const env = options.env ?? process.env;
  const cmd = buildCommand(command, options.version ?? "0.0.0");
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
    cmd.parse(command.singleDashFlags === true ? doubleDashed(argv) : [...argv], { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) return { kind: "exit", code: 0, output: out, stream: "stdout" };
    return {
      kind: "exit",
      code: 2,
      output: `${err.trimEnd()}\nRun ${command.name} --help for the flags.\n`,
      stream: "stderr",
    };
  }

  const problems: string[] = [];
  const settings = new Map<string, RawSetting>();
  const names = new Set(command.flags.map((f) => f.name));
  const opts = cmd.opts<Record<string, string | boolean | undefined>>();
  const given = (flag: string): string | undefined => {
    const v = opts[cmd.options.find((o) => o.long === `--${flag}`)?.attributeName() ?? ""];
    // A switch, or an optional value left out, is true.
    return v === true ? "true" : v === false ? "false" : v;
  };

  // Lowest first, so that later sources overwrite.
  for (const f of command.flags) {
    if (f.default !== undefined) settings.set(f.name, { value: f.default, source: "default" });
  }

  const configEnv = env[envVarName(command.envPrefix, command.configFlag)];
  const configFile = given(command.configFlag) ?? (configEnv === "" ? undefined : configEnv);
  if (configFile !== undefined) {
    const read = options.readFile ?? ((path: string) => readFileSync(path, "utf8"));
    for (const [k, v] of readConfigFile(command, configFile, read, problems)) {
      settings.set(k, { value: v, source: "file" });
    }
  }

  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(command.envPrefix) || value === undefined) continue;
    const flag = key.slice(command.envPrefix.length).toLowerCase().replaceAll("_", "-");
    if (flag === command.configFlag) continue;
    if (!names.has(flag)) {
      const near = closestName(flag, names);
      problems.push(
        `${key} in the environment is not a ${command.name} setting${near === undefined ? "" : ` (did you mean ${envVarName(command.envPrefix, near)}?)`}; ` +
          "unset it or fix its name",
      );
      continue;
    }
    settings.set(flag, { value, source: "env" });
  }

  for (const [alias, flag] of Object.entries(command.aliases ?? {})) {
    const v = given(alias);
    if (v !== undefined) settings.set(flag, { value: v, source: "flag" });
  }
  for (const f of command.flags) {
    const v = given(f.name);
    if (v !== undefined) settings.set(f.name, { value: v, source: "flag" });
  }

  return { kind: "run", settings: new SettingsReader(command, settings, configFile, problems) };
}
