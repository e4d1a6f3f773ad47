// Local clusters of processes that take etcd's flags: real etcd (/usr/bin/etcd) or tug-store.
// One launcher serves both because tug-store uses etcd's flag names; the benchmark and the
// process tests start, kill (SIGKILL), restart and stop members through it.
//
// Every member gets free loopback ports (client, peer, metrics) and a directory under one
// temp dir; its stdout and stderr go to <dir>/<name>.log. stop() kills what is still running
// and removes the temp dir; so does process exit, so that a crashed bench leaves nothing.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, rmSync, type WriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { noop as noopPolicy } from "cockatiel";
import { Etcd3 } from "etcd3";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(here, "../../..");
export const TUG_STORE_BIN = join(REPO_ROOT, "packages/store/bin/tug-store.ts");
export const ETCD_BIN = "/usr/bin/etcd";
export const ETCDCTL_BIN = "/usr/bin/etcdctl";

/** How long a member may take to come up and see a leader: a cold tsx start is several seconds. */
const READY_TIMEOUT_MS = 60_000;
/** SIGTERM first on stop; SIGKILL after this. */
const STOP_GRACE_MS = 5_000;

export type MemberKind = "etcd" | "tug";

export interface MemberSpec {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly metricsUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export interface ClusterOptions {
  readonly kind: MemberKind;
  readonly size?: number;
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
  /** Names prefix, and the --initial-cluster-token. */
  readonly token?: string;
  /** Extra flags for every member. */
  readonly extraFlags?: readonly string[];
  /** Extra environment for every member. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Picks `n` distinct free loopback ports (bound to port 0 and released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === "string") throw new Error("no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** tug-store as `pnpm build` leaves it; run when BENCH_TUG_STORE=dist. */
export const TUG_STORE_DIST_BIN = join(REPO_ROOT, "packages/store/dist/bin/tug-store.js");

/**
 * The command that runs one member of `kind` with `flags`. tug-store runs from its sources
 * through tsx (no build step needed), or from dist/ when BENCH_TUG_STORE=dist; node gets the
 * space-separated flags in BENCH_TUG_NODE_ARGS first (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`,
 * which NODE_OPTIONS does not allow).
 */
export function memberCommand(kind: MemberKind, flags: readonly string[]): [string, string[]] {
  if (kind === "etcd") return [ETCD_BIN, [...flags]];
  const nodeArgs = (process.env.BENCH_TUG_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  if (process.env.BENCH_TUG_STORE === "dist")
    return [process.execPath, [...nodeArgs, TUG_STORE_DIST_BIN, ...flags]];
  return [
    process.execPath,
    [...nodeArgs, "--conditions=source", "--import", "tsx", TUG_STORE_BIN, ...flags],
  ];
}

/** How a member process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Running {
  readonly child: ChildProcess;
  readonly log: WriteStream;
  readonly exited: Promise<Exit>;
}

const liveClusters = new Set<LocalCluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the caller never reaches stop(): a thrown error, a crashed test worker.
  process.on("exit", () => {
    for (const c of liveClusters) c.killAllSync();
  });
}

/**
 * For a program that owns its process (the bench, not a test worker): on SIGINT or SIGTERM,
 * kill every member and remove the temp dirs, then exit 130.
 */
export function stopClustersOnSignals(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      for (const c of liveClusters) c.killAllSync();
      process.exit(130);
    });
  }
}

export class LocalCluster {
  private readonly memberList: MemberSpec[];
  private readonly running = new Map<string, Running>();
  private readonly lastExit = new Map<string, Exit>();
  private stopped = false;

  private constructor(
    readonly options: Required<Omit<ClusterOptions, "env">> & Pick<ClusterOptions, "env">,
    readonly baseDir: string,
    members: MemberSpec[],
  ) {
    this.memberList = members;
  }

  /** Every member laid out, added ones included. */
  get members(): readonly MemberSpec[] {
    return this.memberList;
  }

  /**
   * Lays out one more member (ports, dir) for `etcdctl member add`; start it with
   * startMember(name, "existing") once the cluster knows it. Starts nothing.
   */
  async addMemberSpec(): Promise<MemberSpec> {
    const [client, peer, metrics] = await freePorts(3);
    const name = `${this.options.kind}${this.memberList.length + 1}`;
    const m: MemberSpec = {
      name,
      clientUrl: `http://127.0.0.1:${client}`,
      peerUrl: `http://127.0.0.1:${peer}`,
      metricsUrl: `http://127.0.0.1:${metrics}`,
      dataDir: join(this.baseDir, name),
      logFile: join(this.baseDir, `${name}.log`),
    };
    this.memberList.push(m);
    return m;
  }

  /** Forgets a member that is not running (after etcdctl member remove). */
  dropMemberSpec(name: string): void {
    if (this.running.has(name)) throw new Error(`${name} is still running`);
    const i = this.memberList.findIndex((m) => m.name === name);
    if (i >= 0) this.memberList.splice(i, 1);
  }

  /** Lays out the members (ports, dirs); starts nothing. */
  static async create(options: ClusterOptions): Promise<LocalCluster> {
    installExitHook();
    const size = options.size ?? 3;
    const token = options.token ?? `${options.kind}-bench`;
    const baseDir = await mkdtemp(join(tmpdir(), `${token}-`));
    const ports = await freePorts(size * 3);
    const members: MemberSpec[] = [];
    for (let i = 0; i < size; i++) {
      const name = `${options.kind}${i + 1}`;
      members.push({
        name,
        clientUrl: `http://127.0.0.1:${ports[i * 3]}`,
        peerUrl: `http://127.0.0.1:${ports[i * 3 + 1]}`,
        metricsUrl: `http://127.0.0.1:${ports[i * 3 + 2]}`,
        dataDir: join(baseDir, name),
        logFile: join(baseDir, `${name}.log`),
      });
    }
    const cluster = new LocalCluster(
      {
        kind: options.kind,
        size,
        heartbeatMs: options.heartbeatMs ?? 100,
        electionMs: options.electionMs ?? 1000,
        token,
        extraFlags: options.extraFlags ?? [],
        env: options.env,
      },
      baseDir,
      members,
    );
    liveClusters.add(cluster);
    return cluster;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  member(name: string): MemberSpec {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** The flags member `m` runs with (etcd's names). */
  flags(m: MemberSpec, state: "new" | "existing" = "new"): string[] {
    const o = this.options;
    return [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`,
      `--initial-advertise-peer-urls=${m.peerUrl}`,
      `--listen-metrics-urls=${m.metricsUrl}`,
      `--initial-cluster=${this.members.map((x) => `${x.name}=${x.peerUrl}`).join(",")}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=${o.token}`,
      `--heartbeat-interval=${o.heartbeatMs}`,
      `--election-timeout=${o.electionMs}`,
      ...o.extraFlags,
    ];
  }

  /** Starts every member that is not running; resolves once all serve and see a leader. */
  async start(): Promise<void> {
    for (const m of this.members) if (!this.running.has(m.name)) this.spawn(m);
    await Promise.all(this.members.map((m) => this.waitReady(m)));
  }

  /**
   * Starts (or restarts, on its data dir) one member and waits until it sees a leader.
   * "existing": it joins the running cluster (after etcdctl member add).
   */
  async startMember(name: string, state: "new" | "existing" = "new"): Promise<void> {
    const m = this.member(name);
    if (!this.running.has(name)) this.spawn(m, state);
    await this.waitReady(m);
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  pid(name: string): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  /**
   * CPU time (user + system, ms) used so far by the running members, summed, from
   * /proc/<pid>/stat (Linux). Taken before and after a run, the difference is what the run
   * cost the cluster, however busy the rest of the machine was.
   */
  async cpuMs(): Promise<number> {
    let total = 0;
    for (const r of this.running.values()) {
      if (r.child.pid !== undefined) total += await processCpuMs(r.child.pid);
    }
    return total;
  }

  private spawn(m: MemberSpec, state: "new" | "existing" = "new"): void {
    if (this.stopped) throw new Error("cluster stopped");
    const [cmd, args] = memberCommand(this.options.kind, this.flags(m, state));
    const log = createWriteStream(m.logFile, { flags: "a" });
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...this.options.env },
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => {
        this.running.delete(m.name);
        this.lastExit.set(m.name, { code, signal });
        resolve({ code, signal });
      });
    });
    this.running.set(m.name, { child, log, exited });
  }

  private async waitReady(m: MemberSpec): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const client = new Etcd3({ hosts: [m.clientUrl], ...singleShotOptions(1000) });
    try {
      for (;;) {
        if (!this.running.has(m.name)) {
          throw new Error(
            `${m.name} exited before it was ready; its log:\n${await this.logTail(m.name)}`,
          );
        }
        try {
          const s = await client.maintenance.status();
          if (s.leader !== "0") return;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${m.name} did not serve with a leader within ${READY_TIMEOUT_MS} ms; its log:\n${await this.logTail(m.name)}`,
          );
        }
        await sleep(100);
      }
    } finally {
      client.close();
    }
  }

  /** The last lines a member wrote. */
  async logTail(name: string, lines = 40): Promise<string> {
    try {
      const text = await readFile(this.member(name).logFile, "utf8");
      return text.split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** The leader's name, as the first member that answers Status says. */
  async leader(): Promise<string> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      for (const m of this.members) {
        if (!this.running.has(m.name)) continue;
        const client = new Etcd3({ hosts: [m.clientUrl], ...singleShotOptions(1000) });
        try {
          const s = await client.maintenance.status();
          if (s.leader !== "0") {
            const lead = s.leader;
            if (s.header.member_id === lead) return m.name;
            const list = await client.cluster.memberList({});
            const lm = list.members.find((x) => x.ID === lead);
            if (lm !== undefined && lm.name !== "") return lm.name;
          }
        } catch {
          // try the next member
        } finally {
          client.close();
        }
      }
      if (Date.now() > deadline) throw new Error("no member reports a leader");
      await sleep(100);
    }
  }

  /** Sends `signal` to a member and waits for it to exit; how it exited. */
  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<Exit | undefined> {
    const r = this.running.get(name);
    if (r === undefined) return this.lastExit.get(name);
    r.child.kill(signal);
    return await r.exited;
  }

  /** How a member that is not running ended, if it ran. */
  exitOf(name: string): Exit | undefined {
    return this.running.has(name) ? undefined : this.lastExit.get(name);
  }

  /** Kills every member still running (SIGTERM, then SIGKILL) and removes the temp dir. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        r.child.kill("SIGTERM");
        const timer = setTimeout(() => r.child.kill("SIGKILL"), STOP_GRACE_MS);
        await r.exited;
        clearTimeout(timer);
        r.log.end();
      }),
    );
    liveClusters.delete(this);
    const keep = process.env.BENCH_KEEP_LOGS;
    if (keep !== undefined && keep !== "") {
      await mkdir(keep, { recursive: true });
      for (const m of this.members) {
        const to = join(keep, `${this.options.token}-${m.name}.log`);
        // A member that never started has no log.
        if (existsSync(m.logFile)) await copyFile(m.logFile, to);
      }
    }
    await rm(this.baseDir, { recursive: true, force: true });
  }

  /** For process exit: SIGKILL everything and remove the dir, synchronously. */
  killAllSync(): void {
    for (const r of this.running.values()) r.child.kill("SIGKILL");
    this.running.clear();
    try {
      rmSync(this.baseDir, { recursive: true, force: true });
    } catch {
      // nothing more to do at exit
    }
  }
}

/**
 * etcd3 client options for one request at a time with no retries or circuit breakers of the
 * client's own: callers decide what a failure means. `timeoutMs` is every call's deadline.
 */
export function singleShotOptions(timeoutMs: number): {
  dialTimeout: number;
  defaultCallOptions: (ctx: { isStream: boolean }) => { deadline?: number };
  faultHandling: { host: () => typeof noopPolicy; global: typeof noopPolicy };
} {
  return {
    dialTimeout: timeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: { host: () => noopPolicy, global: noopPolicy },
  };
}

/** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on every Linux port Node runs on. */
const USER_HZ = 100;

/** User + system CPU ms of process `pid` (fields 14 and 15 of /proc/<pid>/stat); 0 if gone. */
export async function processCpuMs(pid: number): Promise<number> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
