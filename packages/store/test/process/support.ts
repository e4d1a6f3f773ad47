// Helpers for the process tests: etcdctl, the metrics HTTP server, and a member run that is
// expected to stop on its own (bad flags, a foreign data dir).

import { execFile, spawn } from "node:child_process";
import {
  ETCDCTL_BIN,
  type Exit,
  type MemberKind,
  memberCommand,
  REPO_ROOT,
} from "../../bench/cluster.js";

/** How long a member that should refuse to start may take to say so (a cold tsx start). */
const REFUSAL_TIMEOUT_MS = 60_000;

/** Runs etcdctl (API v3) against `endpoints`; its stdout. Rejects with stderr on failure. */
export function etcdctl(endpoints: readonly string[], args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ETCDCTL_BIN,
      [`--endpoints=${endpoints.join(",")}`, "--command-timeout=10s", ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`etcdctl ${args.join(" ")}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

export async function etcdctlJson<T>(
  endpoints: readonly string[],
  args: readonly string[],
): Promise<T> {
  return JSON.parse(await etcdctl(endpoints, [...args, "-w", "json"])) as T;
}

export interface RunResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one member with `flags` and waits for it to exit by itself; SIGKILLs it (and fails)
 * if it is still running after REFUSAL_TIMEOUT_MS.
 */
export function runToExit(
  kind: MemberKind,
  flags: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<RunResult> {
  const [cmd, args] = memberCommand(kind, flags);
  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `member did not stop by itself within ${REFUSAL_TIMEOUT_MS} ms; stderr:\n${stderr}`,
        ),
      );
    }, REFUSAL_TIMEOUT_MS);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Parses JSON log lines, skipping anything else. */
export function logRecords(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log record
    }
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
