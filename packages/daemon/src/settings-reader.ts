// Gathered settings read as typed values. Each reader returns a value even when the text is
// bad (0, false, the text itself) and records a problem naming the setting as the operator
// spelled it and the fix, so that one ConfigError lists every bad setting at once: check()
// throws it. A daemon's own rules (a URL list, a range) push their problems with problem().

import { ConfigError } from "./config-error.js";
import { parseDuration } from "./go-duration.js";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./logger.js";
import { describeSetting, type RawSetting, type RawSettings } from "./raw-setting.js";
import type { SettingsCommand } from "./settings-command.js";

const WHOLE_NUMBER = /^\d+$/;

export class SettingsReader {
  private readonly found: string[];

  constructor(
    readonly command: SettingsCommand,
    /** Every setting with a value: given, or defaulted. */
    readonly settings: RawSettings,
    /** The config file read, if any. */
    readonly configFile: string | undefined,
    problems: readonly string[] = [],
  ) {
    this.found = [...problems];
  }

  /** The problems so far, in the order found. */
  get problems(): readonly string[] {
    return this.found;
  }

  /** Records a problem; it should name the setting (describe()) and the fix. */
  problem(text: string): void {
    this.found.push(text);
  }

  /** Throws ConfigError listing every problem, if there is one. */
  check(): void {
    if (this.found.length > 0) throw new ConfigError(this.found);
  }

  raw(flag: string): RawSetting | undefined {
    return this.settings.get(flag);
  }

  /** `--flag`, or `--flag (set by ENV_VAR)`, or `--flag (set by "flag" in file)`. */
  describe(flag: string): string {
    return describeSetting(this.command.envPrefix, flag, this.raw(flag), this.configFile);
  }

  /** The text, "" when unset. */
  value(flag: string): string {
    return this.raw(flag)?.value ?? "";
  }

  /** A comma-separated list, items trimmed, empty items dropped. */
  list(flag: string): string[] {
    return this.value(flag)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /** A TCP port, 0 to 65535 (0: any free port, or off, as the flag says). */
  port(flag: string): number {
    const v = this.value(flag);
    if (!WHOLE_NUMBER.test(v) || Number(v) > 65535) {
      this.problem(`${this.describe(flag)} "${v}" is not a port; give a number from 0 to 65535`);
      return 0;
    }
    return Number(v);
  }

  /** A whole number, 0 or more; `zeroMeans` is said in the message, e.g. " (no limit)". */
  count(flag: string, zeroMeans = ""): number {
    const v = this.value(flag);
    if (!WHOLE_NUMBER.test(v) || !Number.isSafeInteger(Number(v))) {
      this.problem(`${this.describe(flag)} "${v}" is not a count; give 0${zeroMeans} or more`);
      return 0;
    }
    return Number(v);
  }

  /** A Go duration, 0 or more, in milliseconds. */
  duration(flag: string): number {
    const ms = parseDuration(this.value(flag));
    if (ms === undefined) {
      this.problem(
        `${this.describe(flag)} "${this.value(flag)}" is not a duration; write it as Go does, e.g. 1h, 5m, 30s`,
      );
      return 0;
    }
    return ms;
  }

  /** A Go duration above 0, in milliseconds. */
  positiveDuration(flag: string): number {
    const ms = parseDuration(this.value(flag));
    if (ms === undefined || ms <= 0) {
      this.problem(
        `${this.describe(flag)} "${this.value(flag)}" is not a positive duration; write it as Go does, e.g. 10s, 1m`,
      );
      return 0;
    }
    return ms;
  }

  /** "true" or "false". */
  bool(flag: string): boolean {
    const v = this.value(flag);
    if (v !== "true" && v !== "false") {
      this.problem(`${this.describe(flag)} "${v}" is not a boolean; give true or false`);
      return false;
    }
    return v === "true";
  }

  /** One of `choices`. */
  oneOf<T extends string>(flag: string, choices: readonly T[]): T {
    const v = this.value(flag);
    if (!(choices as readonly string[]).includes(v)) {
      this.problem(`${this.describe(flag)} "${v}" is not one of ${choices.join(", ")}`);
      return choices[0] as T;
    }
    return v as T;
  }

  /** debug, info, warn or error. */
  logLevel(flag = "log-level"): LogLevel {
    const v = this.value(flag);
    return isLogLevel(v) ? v : this.oneOf(flag, LOG_LEVELS);
  }
}
