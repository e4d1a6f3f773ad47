// The processes the API benchmark runs against: a 3-member tug-store (etcd's flags, as
// packages/store/bench/cluster.ts launches it) and one tug-apiserver, both from source through
// tsx. Every process gets free loopback ports and writes its output to <dir>/<name>.log under
// one temp dir. Whatever happens — a normal end, a thrown error, SIGINT/SIGTERM — every process
// is killed and the temp dir removed: see stopEverythingOnSignals() and the exit hook.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, rmSync, type WriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const TUG_STORE_BIN = join(REPO_ROOT, "packages/store/bin/tug-store.ts");
const TUG_APISERVER_BIN = join(REPO_ROOT, "packages/apiserver/bin/tug-apiserver.ts");

/** A cold tsx start of a process takes several seconds on a busy 2-core machine. */
const READY_TIMEOUT_MS = 90_000;
/** SIGTERM first on stop (a --cpu-prof profile is written on a clean exit); SIGKILL after this. */
const STOP_GRACE_MS = 10_000;
/** How often readiness endpoints are polled while a process starts. */
const READY_POLL_MS = 200;

/** Picks `n` distinct free loopback ports (bound to port 0 and released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === "string") throw new Error("a listening socket has no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Node flags from a space-separated env var (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`). */
function nodeArgsFrom(envVar: string): string[] {
  return (process.env[envVar] ?? "").split(" ").filter((a) => a !== "");
}

/** One child process of the bench, its output going to a log file. */
export class BenchProcess {
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  private running = true;

  constructor(
    readonly name: string,
    readonly logFile: string,
    args: readonly string[],
  ) {
    this.log = createWriteStream(logFile, { flags: "a" });
    this.child = spawn(process.execPath, [...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
    });
    this.child.stdout?.pipe(this.log, { end: false });
    this.child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", () => {
        this.running = false;
        resolve();
      });
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.log.end();
  }

  /** For process exit: SIGKILL at once. */
  killSync(): void {
    if (this.running) this.child.kill("SIGKILL");
  }

  /** The last lines it wrote. */
  async logTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.logFile, "utf8")).split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** User + system CPU ms so far, from /proc/<pid>/stat (Linux); 0 once gone. */
  async cpuMs(): Promise<number> {
    if (this.child.pid === undefined) return 0;
    let stat: string;
    try {
      stat = await readFile(`/proc/${this.child.pid}/stat`, "utf8");
    } catch {
      return 0;
    }
    // Field 2 (the command) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    /** /proc's clock ticks per second (USER_HZ), 100 on every Linux port Node runs on. */
    const USER_HZ = 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  }
}

/** Polls `url` until it answers 200; fails early if `proc` exits, with its log tail. */
async function waitHttpOk(url: string, proc: BenchProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!proc.isRunning) {
      throw new Error(`${proc.name} exited before it was ready; its log:\n${await proc.logTail()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${proc.name} was not ready (${url}) within ${READY_TIMEOUT_MS} ms; its log:\n${await proc.logTail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

/** Everything one bench run started, under one temp dir. */
export class BenchEnvironment {
  readonly processes: BenchProcess[] = [];
  storeEndpoints: string[] = [];
  private stopping: Promise<void> | undefined;

  private constructor(readonly baseDir: string) {}

  static async create(): Promise<BenchEnvironment> {
    const env = new BenchEnvironment(await mkdtemp(join(tmpdir(), "tug-api-bench-")));
    live.add(env);
    installExitHook();
    return env;
  }

  /**
   * Starts `size` tug-store members with etcd's flags and default Raft timing (heartbeat
   * 100 ms, election 1000 ms); resolves once each one's /healthz says it has a leader.
   */
  async startStore(size = 3): Promise<string[]> {
    const ports = await freePorts(size * 3);
    const members = Array.from({ length: size }, (_, i) => ({
      name: `store${i + 1}`,
      client: `http://127.0.0.1:${ports[i * 3]}`,
      peer: `http://127.0.0.1:${ports[i * 3 + 1]}`,
      metrics: `http://127.0.0.1:${ports[i * 3 + 2]}`,
    }));
    const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(",");
    const nodeArgs = nodeArgsFrom("BENCH_STORE_NODE_ARGS");
    const procs = members.map(
      (m) =>
        new BenchProcess(m.name, join(this.baseDir, `${m.name}.log`), [
          ...nodeArgs,
          "--conditions=source",
          "--import",
          "tsx",
          TUG_STORE_BIN,
          `--name=${m.name}`,
          `--data-dir=${join(this.baseDir, m.name)}`,
          `--listen-client-urls=${m.client}`,
          `--advertise-client-urls=${m.client}`,
          `--listen-peer-urls=${m.peer}`,
          `--initial-advertise-peer-urls=${m.peer}`,
          `--listen-metrics-urls=${m.metrics}`,
          `--initial-cluster=${initialCluster}`,
          "--initial-cluster-state=new",
          "--initial-cluster-token=tug-api-bench",
          "--heartbeat-interval=100",
          "--election-timeout=1000",
        ]),
    );
    this.processes.push(...procs);
    await Promise.all(members.map((m, i) => waitHttpOk(`${m.metrics}/healthz`, procs[i]!)));
    this.storeEndpoints = members.map((m) => m.client);
    return this.storeEndpoints;
  }

  /**
   * Starts tug-apiserver on the store; resolves once /readyz answers 200. It listens on all
   * addresses (0.0.0.0) so that watch clients can dial it at distinct loopback addresses
   * (127.0.0.1, 127.0.0.2, ...) and so get distinct TCP connections: gRPC shares one
   * connection among channels to the same address. Node flags come from
   * BENCH_APISERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
   */
  async startApiserver(): Promise<{ port: number; healthUrl: string; proc: BenchProcess }> {
    const [port, healthPort] = (await freePorts(2)) as [number, number];
    const proc = new BenchProcess("apiserver", join(this.baseDir, "apiserver.log"), [
      ...nodeArgsFrom("BENCH_APISERVER_NODE_ARGS"),
      "--conditions=source",
      "--import",
      "tsx",
      TUG_APISERVER_BIN,
      `--etcd-servers=${this.storeEndpoints.join(",")}`,
      "--bind-address=0.0.0.0",
      `--secure-port=${port}`,
      `--health-port=${healthPort}`,
      "--etcd-compaction-interval=0",
      "--log-level=warn",
    ]);
    this.processes.push(proc);
    const healthUrl = `http://127.0.0.1:${healthPort}`;
    await waitHttpOk(`${healthUrl}/readyz`, proc);
    return { port, healthUrl, proc };
  }

  /** Stops every process (apiserver first) and removes the temp dir. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.processes].reverse()) {
        if (p.name === "apiserver") await p.stop();
      }
      await Promise.all(this.processes.map((p) => p.stop()));
      live.delete(this);
      // BENCH_KEEP_LOGS=1 keeps the logs (and data dirs) for a look after the run.
      if (process.env.BENCH_KEEP_LOGS === "1") return;
      await rm(this.baseDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** For process exit: SIGKILL everything and remove the dir, synchronously. */
  killAllSync(): void {
    for (const p of this.processes) p.killSync();
    try {
      rmSync(this.baseDir, { recursive: true, force: true });
    } catch {
      // nothing more to do at exit
    }
  }
}

const live = new Set<BenchEnvironment>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when stop() is never reached (a crash): nothing may outlive the bench.
  process.on("exit", () => {
    for (const env of live) env.killAllSync();
  });
}

/** On SIGINT or SIGTERM: kill every process, remove the temp dirs, exit 130. */
export function stopEverythingOnSignals(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      for (const env of live) env.killAllSync();
      process.exit(130);
    });
  }
}
