// Starting and stopping the local cluster's daemons as detached processes: each in its own
// process group (so that a signal reaches whatever it started too), stdout and stderr appended
// to its log file, and no tie to the `tug up` process that started it.

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "../cli-error.js";
import { BINARY_PACKAGE, type Binary } from "./cluster-plan.js";

/** How long a daemon gets to stop after SIGTERM before SIGKILL (they drain in about 2 s). */
export const STOP_GRACE_MS = 10_000;
const POLL_MS = 100;

/** The checkout holding this module: the first ancestor with pnpm-workspace.yaml. */
export function repoRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new CliError(
        "tug up runs the daemons from a tug checkout, and none was found above the tug CLI; run the tug of a checkout (packages/cli/bin/tug.ts)",
      );
    }
    dir = parent;
  }
}

/** How a daemon is run: node on its built dist/ file, else on its source through tsx. */
export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly fromSource: boolean;
}

export function launchFor(root: string, binary: Binary, preferSource: boolean): Launch {
  const pkg = join(root, "packages", BINARY_PACKAGE[binary]);
  const built = join(pkg, "dist", "bin", `${binary}.js`);
  if (!preferSource && existsSync(built)) {
    return { command: process.execPath, args: [built], fromSource: false };
  }
  const source = join(pkg, "bin", `${binary}.ts`);
  if (!existsSync(source)) {
    throw new CliError(
      `cannot find ${binary}: neither ${built} nor ${source} exists; run pnpm build`,
    );
  }
  return {
    command: process.execPath,
    args: ["--conditions=source", "--import", "tsx", source],
    fromSource: true,
  };
}

/** Starts `launch` + `args` detached in `cwd`, output appended to `log`; returns its pid. */
export async function startDetached(
  launch: Launch,
  args: readonly string[],
  log: string,
  cwd: string,
): Promise<number> {
  await mkdir(dirname(log), { recursive: true });
  const fd = openSync(log, "a");
  try {
    const child = spawn(launch.command, [...launch.args, ...args], {
      cwd,
      detached: true,
      stdio: ["ignore", fd, fd],
      env: process.env,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid ?? 0));
      child.once("error", (err) =>
        reject(new CliError(`cannot start ${launch.command}: ${err.message}`)),
      );
    });
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** True while `pid` exists (signal 0 probes without sending). */
export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when `pid` runs `binary` (its command line names it): a pid from an old state file that
 * the system has since given to another program is not ours to signal.
 */
export async function runsBinary(pid: number, binary: Binary): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(binary);
  } catch {
    // No /proc (not Linux): trust the pid file.
    return true;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops the process group led by `pid`: SIGTERM, then SIGKILL once `graceMs` has passed.
 * Resolves "exited", "killed" or "not-running".
 */
export async function stopProcess(
  pid: number,
  graceMs: number = STOP_GRACE_MS,
): Promise<"exited" | "killed" | "not-running"> {
  if (!isAlive(pid)) return "not-running";
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return "exited";
    await sleep(POLL_MS);
  }
  signalGroup(pid, "SIGKILL");
  while (isAlive(pid)) await sleep(POLL_MS);
  return "killed";
}

/** How long a one-shot daemon command (`tug-agent --cleanup`) may run. */
export const ONE_SHOT_TIMEOUT_MS = 120_000;

/**
 * Runs `launch` + `args` in `cwd` to its end (killed after `timeoutMs`); resolves its exit code
 * (null when killed) and its output, stdout and stderr interleaved.
 */
export function runToExit(
  launch: Launch,
  args: readonly string[],
  cwd: string,
  timeoutMs: number = ONE_SHOT_TIMEOUT_MS,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(launch.command, [...launch.args, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      output += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      output += d;
    });
    child.once("error", (err) =>
      reject(new CliError(`cannot start ${launch.command}: ${err.message}`)),
    );
    child.once("close", (code) => resolve({ code, output }));
  });
}
