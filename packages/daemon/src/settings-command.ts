// A daemon's settings as data (DESIGN.md: "every flag has an env var and a config-file
// equivalent"): the flag table, from which the command line parser, the --help text, the
// environment variable names and the config-file keys all follow. The table itself stays in
// each daemon; this module only knows its shape.

import { Command, Option } from "commander";

export interface FlagSpec {
  /** The flag without its dashes, e.g. "election-timeout"; also the config-file key. */
  readonly name: string;
  /**
   * Shown in --help after the flag, e.g. "<ms>". "[value]" makes the value optional and ""
   * makes the flag a switch; given without a value, either reads as "true".
   */
  readonly arg: string;
  readonly description: string;
  /** The default, as it would be typed; undefined: none (the description says what then). */
  readonly default?: string;
}

export interface SettingsCommand {
  /** The binary, e.g. "tug-apiserver"; messages call a wrong key "not a <name> setting". */
  readonly name: string;
  /** The first line of --help. */
  readonly description: string;
  /** Printed after the flags in --help: where else settings come from, where the docs are. */
  readonly helpAfter: string;
  /** E.g. "TUG_APISERVER_": a flag's variable is this and the flag in upper snake case. */
  readonly envPrefix: string;
  /** Every setting, in --help order. */
  readonly flags: readonly FlagSpec[];
  /** The flag that names the config file, e.g. "config" (kube) or "config-file" (etcd). */
  readonly configFlag: string;
  /** The config file's language; YAML also reads JSON. */
  readonly configFormat: "yaml" | "json";
  /** One setting as the file spells it, shown when the file is not a mapping. */
  readonly configExample: string;
  /** Take -flag as well as --flag, as Go's flag package (and so etcd) does. */
  readonly singleDashFlags?: boolean;
  /** Other names of a flag: { server: "master" } makes --server set --master. */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** The environment variable of `flag`: the prefix and the flag in upper snake case. */
export function envVarName(prefix: string, flag: string): string {
  return prefix + flag.toUpperCase().replaceAll("-", "_");
}

/** The commander program for `command`; it throws CommanderError instead of exiting. */
export function buildCommand(command: SettingsCommand, version: string): Command {
  const cmd = new Command(command.name)
    .description(command.description)
    .addHelpText("after", `\n${command.helpAfter}`)
    .version(version, "--version", "print the version and exit")
    .helpOption("-h, --help", "print this help and exit")
    .allowExcessArguments(false)
    .exitOverride();
  const format = command.configFormat === "yaml" ? "YAML" : "JSON";
  cmd.addOption(
    new Option(
      `--${command.configFlag} <path>`,
      `${format} file with settings (keys as the flags)`,
    ),
  );
  for (const f of command.flags) {
    const desc =
      f.default === undefined ? f.description : `${f.description} (default: ${f.default})`;
    cmd.addOption(new Option(`--${f.name} ${f.arg}`.trimEnd(), desc));
  }
  for (const [alias, flag] of Object.entries(command.aliases ?? {})) {
    const spec = command.flags.find((f) => f.name === flag);
    cmd.addOption(new Option(`--${alias} ${spec?.arg ?? "<value>"}`, `alias of --${flag}`));
  }
  return cmd;
}

/** The --help text (for docs and tests). */
export function helpText(command: SettingsCommand, version = "0.0.0"): string {
  return buildCommand(command, version).helpInformation();
}
