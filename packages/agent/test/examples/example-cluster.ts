// A whole two-node tug cluster as real processes, for the examples' end-to-end tests and
// `pnpm bench:pods`: `tug up --agents 2 --from-source` (three tug-store members, tug-apiserver,
// tug-scheduler, tug-controller-manager, two tug-cri-docker runtimes with their own
// --instance labels, two tug-agents) in a temporary data dir on its own --base-port, and the
// `tug` CLI run as a user runs it (its bin, from source, with its own $TUGCONFIG).
// close() runs `tug down --purge` (which also removes the nodes' Docker networks), then removes
// whatever is still there: processes of the state file, containers carrying the runtimes'
// instance labels, and, if `tug down` failed, the nodes' Docker networks that did not exist
// before. Fails (never skips) without Docker or the images.

import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ApiClient } from "@tug/client";

const run = promisify(execFile);

const ROOT = join(import.meta.dirname, "../../../..");
const TUG = join(ROOT, "packages/cli/bin/tug.ts");
/** The examples of issue 6, applied unchanged. */
export const EXAMPLES_DIR = "/work/shared/examples";
export const BUSYBOX = "tug/busybox:latest";
export const PAUSE = "tug/pause:latest";
/** When set, close() first copies the daemons' logs to $TUG_EXAMPLES_KEEP_LOGS/base-port-<P>/. */
export const KEEP_LOGS_ENV = "TUG_EXAMPLES_KEEP_LOGS";
/** tug-cri-docker's instance label (docs/cri-docker.md). */
const INSTANCE_LABEL = "io.tug.cri.instance";

/**
 * `tug up` waits up to 60 s per stage (four stages); from source through tsx on a loaded
 * 2-core machine a stage takes 5-15 s.
 */
const UP_TIMEOUT_MS = 300_000;
/** One CLI command: tsx start-up is 2-5 s under load; rollout status may follow a rollout. */
const CLI_TIMEOUT_MS = 120_000;
/** `tug down` gives each daemon 10 s after SIGTERM, agents first, then the rest in stages. */
const DOWN_TIMEOUT_MS = 120_000;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One component of `tug up`'s state file (cluster.json), the fields used here. */
export interface ClusterComponent {
  readonly name: string;
  readonly binary: string;
  readonly pid: number;
  readonly ports: readonly number[];
  readonly node?: string;
  readonly criInstance?: string;
}

export interface ExampleCluster {
  /** Temporary directory holding data dir, run dir and CLI config. */
  readonly dir: string;
  readonly dataDir: string;
  /** host:port of the API server. */
  readonly apiServer: string;
  readonly api: ApiClient;
  /** tug-node-1, tug-node-2. */
  readonly nodes: readonly string[];
  readonly components: readonly ClusterComponent[];
  /** Runs `tug ARGS` against this cluster; `stdin` is piped in when given. */
  tug(args: readonly string[], stdin?: string): Promise<CliResult>;
  /** Like tug(), but throws with the output when the exit code is not 0. */
  tugOk(args: readonly string[], stdin?: string): Promise<string>;
  /**
   * The node dies: SIGKILL to its agent and its runtime, as a power loss would; its containers
   * keep running in Docker (close() removes them by their instance label).
   */
  killNode(node: string): Promise<void>;
  /** Stops everything and removes what the cluster made. Safe to call twice. */
  close(): Promise<void>;
}

export interface ExampleClusterOptions {
  /** `tug up --base-port`: every port of the cluster moves with it. */
  readonly basePort: number;
  /**
   * Environment for every daemon (`tug up` passes its own to them): TUG_CONTROLLER_MANAGER_*,
   * TUG_AGENT_*, ... settings that `tug up` has no flag for.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Progress lines (`tug up`'s own output included); default: none. */
  readonly progress?: (line: string) => void;
}

/** Throws, naming the fix, unless Docker answers and both local images exist. */
export async function checkDocker(): Promise<void> {
  try {
    await run("docker", ["version", "--format", "{{.Server.Version}}"]);
  } catch (e) {
    throw new Error(`no Docker engine answers; run scripts/setup-docker.sh (${String(e)})`);
  }
  try {
    await run("docker", ["image", "inspect", "--format", "{{.Id}}", BUSYBOX, PAUSE]);
  } catch {
    throw new Error(`image ${BUSYBOX} or ${PAUSE} is missing; run scripts/build-images.sh`);
  }
}

function runTugProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  stdin?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", TUG, ...args],
      {
        cwd: ROOT,
        env,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const why = signal === null ? "" : `\n(killed by ${signal} after ${timeoutMs} ms)`;
      resolve({ code: code ?? 1, stdout, stderr: stderr + why });
    });
    child.stdin.end(stdin ?? "");
  });
}

async function dockerNetworks(): Promise<Set<string>> {
  const { stdout } = await run("docker", ["network", "ls", "--format", "{{.Name}}"]);
  return new Set(stdout.split("\n").filter((n) => n !== ""));
}

/** Ids of every container (running or not) carrying one of the runtimes' instance labels. */
export async function instanceContainers(instances: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const instance of instances) {
    const { stdout } = await run("docker", [
      "ps",
      "-aq",
      "--filter",
      `label=${INSTANCE_LABEL}=${instance}`,
    ]);
    ids.push(...stdout.split("\n").filter((id) => id !== ""));
  }
  return ids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` still runs `binary` (a recycled pid is not ours to signal). */
function runs(pid: number, binary: string): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(binary);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * How long `tug up` waits for another local cluster (a test or a user's) to go: one cluster
 * with agents runs on a host at a time (docs/getting-started.md, TUG_UP_HOST_WAIT_SECONDS).
 */
const HOST_WAIT_SECONDS = 600;

function readComponents(dataDir: string): ClusterComponent[] {
  const path = join(dataDir, "cluster.json");
  if (!existsSync(path)) return [];
  const state = JSON.parse(readFileSync(path, "utf8")) as { components: ClusterComponent[] };
  return state.components;
}

/** Brings the cluster up; on failure removes what was started and throws with `tug up`'s output. */
export async function startExampleCluster(options: ExampleClusterOptions): Promise<ExampleCluster> {
  await checkDocker();
  const progress = options.progress ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), "tug-examples-"));
  const dataDir = join(dir, "data");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    TUGCONFIG: join(dir, "config"),
  };
  const networksBefore = await dockerNetworks();
  let components: ClusterComponent[] = [];
  let instances: string[] = [];
  let api: ApiClient | undefined;
  let closed = false;

  const tug = (args: readonly string[], stdin?: string) =>
    runTugProcess(args, env, CLI_TIMEOUT_MS, stdin);

  const close = async () => {
    if (closed) return;
    closed = true;
    api?.close();
    const known = components.length > 0 ? components : readComponents(dataDir);
    instances = known.flatMap((c) => (c.criInstance === undefined ? [] : [c.criInstance]));
    const keep = process.env[KEEP_LOGS_ENV];
    if (keep !== undefined && keep !== "") {
      await cp(join(dataDir, "logs"), join(keep, `base-port-${options.basePort}`), {
        recursive: true,
      }).catch(() => undefined);
    }
    const down = await runTugProcess(
      ["down", "--data-dir", dataDir, "--purge"],
      env,
      DOWN_TIMEOUT_MS,
    );
    progress(`tug down: exit ${down.code}${down.code === 0 ? "" : `: ${down.stderr.trim()}`}`);
    // Whatever `tug down` could not stop or remove (it failed, or timed out).
    for (const c of known) {
      if (runs(c.pid, c.binary)) {
        try {
          process.kill(-c.pid, "SIGKILL");
        } catch {
          // Not a group leader any more: the process alone (gone already is fine too).
          try {
            process.kill(c.pid, "SIGKILL");
          } catch {}
        }
        await waitExit(c.pid, 10_000);
      }
    }
    const left = await instanceContainers(instances).catch(() => []);
    if (left.length > 0) await run("docker", ["rm", "-f", "-v", ...left]).catch(() => undefined);
    // `tug down` removes the nodes' Docker networks tug-<node> (docs/networking.md) and gives
    // the host back; only when it failed are they removed here, since once the host is given
    // back the next cluster may already have made networks of the same names.
    if (down.code !== 0) {
      const networks = await dockerNetworks().catch(() => new Set<string>());
      for (const node of known.flatMap((c) => (c.node === undefined ? [] : [c.node]))) {
        const name = `tug-${node}`;
        if (networks.has(name) && !networksBefore.has(name)) {
          networks.delete(name);
          await run("docker", ["network", "rm", name]).catch(() => undefined);
        }
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    progress(`tug up --agents 2 --base-port ${options.basePort} in ${dataDir}`);
    const up = await runTugProcess(
      [
        "up",
        "--data-dir",
        dataDir,
        "--run-dir",
        join(dir, "run"),
        "--agents",
        "2",
        "--base-port",
        String(options.basePort),
        "--from-source",
      ],
      { ...env, TUG_UP_HOST_WAIT_SECONDS: String(HOST_WAIT_SECONDS) },
      UP_TIMEOUT_MS + HOST_WAIT_SECONDS * 1000,
    );
    components = readComponents(dataDir);
    if (up.code !== 0) {
      throw new Error(`tug up failed (exit ${up.code}):\n${up.stdout}\n${up.stderr}`);
    }
    for (const line of up.stdout.split("\n")) if (line.startsWith("✓")) progress(line);
    const state = JSON.parse(readFileSync(join(dataDir, "cluster.json"), "utf8")) as {
      apiServer: string;
      nodes: string[];
    };
    const client = new ApiClient({ servers: [state.apiServer], requestTimeoutMs: 10_000 });
    api = client;
    const byNode = (node: string, binary: string): ClusterComponent => {
      const found = components.find((c) => c.node === node && c.binary === binary);
      if (found === undefined) throw new Error(`no ${binary} for node ${node} in cluster.json`);
      return found;
    };
    return {
      dir,
      dataDir,
      apiServer: state.apiServer,
      api: client,
      nodes: state.nodes,
      components,
      tug,
      async tugOk(args, stdin) {
        const result = await tug(args, stdin);
        if (result.code !== 0) {
          throw new Error(
            `tug ${args.join(" ")} exited ${result.code}:\n${result.stdout}${result.stderr}`,
          );
        }
        return result.stdout;
      },
      async killNode(node) {
        for (const binary of ["tug-agent", "tug-cri-docker"]) {
          const c = byNode(node, binary);
          if (!runs(c.pid, c.binary)) continue;
          process.kill(-c.pid, "SIGKILL");
          if (!(await waitExit(c.pid, 20_000))) {
            throw new Error(`${c.name} (pid ${c.pid}) still runs 20 s after SIGKILL`);
          }
        }
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
