// The --config file: a flat mapping keyed by the flag names (without dashes), in YAML or JSON.
// Values are kept as a flag would spell them (lists comma-joined, numbers and booleans as
// text) so that one parser per setting serves the three sources. A null value is as if the key
// were absent. Every problem names the file, the key and the fix.

import { parse as parseYaml } from "yaml";
import { closestName } from "./closest-name.js";
import type { SettingsCommand } from "./settings-command.js";

/** A value as a flag would spell it; undefined if it cannot be one. */
function settingText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number")) {
    return value.join(",");
  }
  return undefined;
}

function firstLine(e: unknown): string {
  return e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e);
}

/** The settings in the file at `path`; problems are pushed onto `problems`. */
export function readConfigFile(
  command: SettingsCommand,
  path: string,
  readFile: (path: string) => string,
  problems: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  const flag = `--${command.configFlag}`;
  const format = command.configFormat === "yaml" ? "YAML" : "JSON";
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    problems.push(
      `${flag} ${path} cannot be read (${firstLine(e)}); fix the path or create the file`,
    );
    return out;
  }
  let doc: unknown;
  try {
    doc = command.configFormat === "yaml" ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    problems.push(`${flag} ${path} is not valid ${format}: ${firstLine(e)}`);
    return out;
  }
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    const what = Array.isArray(doc) ? "list" : typeof doc;
    const shape = command.configFormat === "yaml" ? "a YAML mapping" : "a JSON object";
    problems.push(
      `${flag} ${path} must be ${shape} of settings (e.g. ${command.configExample}), not a ${what}`,
    );
    return out;
  }
  const names = command.flags.map((f) => f.name);
  for (const [key, value] of Object.entries(doc)) {
    if (!names.includes(key)) {
      const near = closestName(key, names);
      problems.push(
        `"${key}" in ${path} is not a ${command.name} setting${near === undefined ? "" : ` (did you mean "${near}"?)`}; ` +
          "remove it or fix its name (keys are the flags without the dashes)",
      );
      continue;
    }
    if (value === null || value === undefined) continue;
    const v = settingText(value);
    if (v === undefined) {
      problems.push(`"${key}" in ${path} must be a string, a number or a list of strings`);
      continue;
    }
    out.set(key, v);
  }
  return out;
}
