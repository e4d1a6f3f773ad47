// A setting as gathered (./gather-settings.ts): its text and the source it came from, which
// messages about it name (the operator fixes what they wrote, where they wrote it).

import { envVarName } from "./settings-command.js";

export type SettingSource = "flag" | "env" | "file" | "default";

/** One setting's raw value and where it came from. */
export interface RawSetting {
  readonly value: string;
  readonly source: SettingSource;
}

export type RawSettings = ReadonlyMap<string, RawSetting>;

/** How a setting is named in messages: the flag, and the other spelling if that was used. */
export function describeSetting(
  envPrefix: string,
  flag: string,
  setting: RawSetting | undefined,
  configFile?: string,
): string {
  switch (setting?.source) {
    case "env":
      return `--${flag} (set by ${envVarName(envPrefix, flag)})`;
    case "file":
      return `--${flag} (set by "${flag}" in ${configFile ?? "the config file"})`;
    default:
      return `--${flag}`;
  }
}
