// Runs the real etcdctl (v3 API) against an endpoint, as a child process.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { ETCDCTL_BIN } from "./targets.js";

export interface EtcdctlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** etcdctl's own deadline per command; a hung command fails the test rather than hanging it. */
const COMMAND_TIMEOUT = "10s";

function env(): NodeJS.ProcessEnv {
  return { ...process.env, ETCDCTL_API: "3" };
}

/** Runs one etcdctl command to completion, with `input` on its stdin. */
export function etcdctl(
  endpoint: string,
  args: readonly string[],
  input?: string | Uint8Array,
): Promise<EtcdctlResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      ETCDCTL_BIN,
      [`--endpoints=${endpoint}`, `--command-timeout=${COMMAND_TIMEOUT}`, ...args],
      { env: env() },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on("data", (d: Buffer) => out.push(d));
    proc.stderr.on("data", (d: Buffer) => err.push(d));
    proc.on("error", reject);
    proc.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    // etcdctl may exit before reading its input (most commands never do): the write then
    // fails with EPIPE, which says nothing about the command; its exit code does.
    proc.stdin.on("error", () => {});
    proc.stdin.end(input ?? "");
  });
}

/** Runs etcdctl and returns its stdout; throws with its stderr if it fails. */
export async function ctl(endpoint: string, ...args: string[]): Promise<string> {
  const r = await etcdctl(endpoint, args);
  if (r.code !== 0) {
    throw new Error(`etcdctl ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** The "Error: ..." line etcdctl prints last when a command fails. */
export function errorLine(r: EtcdctlResult): string {
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("Error: "));
  return lines[lines.length - 1] ?? `(no Error line; exit ${r.code}; stderr: ${r.stderr})`;
}

/** A long-running etcdctl (watch, keep-alive) whose stdout is read line by line. */
export class EtcdctlProcess {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffered = "";
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  stderr = "";
  exitCode: number | null = null;
  private exited = false;

  constructor(endpoint: string, args: readonly string[]) {
    this.proc = spawn(ETCDCTL_BIN, [`--endpoints=${endpoint}`, ...args], { env: env() });
    this.proc.stdout.on("data", (d: Buffer) => {
      this.buffered += d.toString();
      const parts = this.buffered.split("\n");
      this.buffered = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake();
    });
    this.proc.stderr.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.proc.on("close", (code) => {
      this.exitCode = code;
      this.exited = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next `n` lines of stdout; rejects if the process exits first. */
  async readLines(n: number): Promise<string[]> {
    while (this.lines.length < n) {
      if (this.exited) {
        throw new Error(
          `etcdctl exited (${this.exitCode}) after ${this.lines.length} of ${n} lines: ` +
            `${JSON.stringify(this.lines)}\nstderr: ${this.stderr}`,
        );
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.lines.splice(0, n);
  }

  /** Resolves with the exit code once the process ends by itself. */
  async exit(): Promise<number | null> {
    while (!this.exited) await new Promise<void>((r) => this.waiters.push(r));
    return this.exitCode;
  }

  /** Stops the process (only this one) and waits for it to go. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.proc.kill("SIGTERM");
    await this.exit();
  }
}
