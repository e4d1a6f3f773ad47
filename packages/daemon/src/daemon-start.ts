// The first steps every daemon's main takes: find its version, and turn the command line into
// settings or into an exit — --help and --version print and exit 0, a usage error exits 2 (as
// ./gather-settings.ts words it), and a ConfigError prints "<name>: invalid configuration: …"
// and a pointer to --help, and exits 2 before anything starts.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./config-error.js";
import type { GatherResult } from "./gather-settings.js";

/**
 * The version in the package.json of `packageName`, looked for from the module at `moduleUrl`
 * (pass import.meta.url) upwards, so that it is found from src/ and dist/src/ alike; "0.0.0"
 * if there is none.
 */
export function packageVersion(moduleUrl: string, packageName: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === packageName && pkg.version !== undefined) return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

export type ParsedSettings<T> =
  | { readonly kind: "run"; readonly settings: T }
  | Extract<GatherResult, { kind: "exit" }>;

/** How a daemon's run function is called: by its bin/ with the process's argv, or by tests. */
export interface DaemonRunOptions<Running> {
  /** The arguments, without node and the script. */
  readonly argv: readonly string[];
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: process.stdout. */
  readonly stdout?: (s: string) => void;
  /** Default: process.stderr (the JSON logs go here too). */
  readonly stderr?: (s: string) => void;
  /** Install SIGTERM/SIGINT handlers (the real process does; tests stop through the handle). */
  readonly handleSignals?: boolean;
  /** Called once the daemon serves, with a handle to it. */
  readonly onStarted?: (running: Running) => void;
}

export interface DaemonOutput {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

/**
 * The settings `parse` returns, or the exit code once what it had to say is printed (on
 * process.stdout and process.stderr unless `out` says otherwise). `parse` may throw
 * ConfigError; any other error is not about settings and propagates.
 */
export function settingsOrExit<T>(
  name: string,
  parse: () => ParsedSettings<T>,
  out: Partial<DaemonOutput> = {},
): { readonly settings: T } | { readonly exitCode: number } {
  const stdout = out.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = out.stderr ?? ((s: string) => process.stderr.write(s));
  try {
    const parsed = parse();
    if (parsed.kind === "run") return { settings: parsed.settings };
    (parsed.stream === "stdout" ? stdout : stderr)(parsed.output);
    return { exitCode: parsed.code };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    stderr(`${name}: ${e.message}\nRun ${name} --help for the flags.\n`);
    return { exitCode: 2 };
  }
}
