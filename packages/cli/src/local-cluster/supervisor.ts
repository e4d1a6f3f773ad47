// The local cluster's supervisor: starts the plan's daemons stage by stage (store, API server,
// scheduler, controller manager and runtimes, agents), each only once the stage before answers
// /readyz; stops them in the reverse order; and reports each one's health. The state file is
// rewritten after every start, so a `tug up` interrupted half-way leaves what `tug down` needs.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { CliError } from "../cli-error.js";
import { type ClusterPlan, type ComponentPlan, podNetworkOf, STAGES } from "./cluster-plan.js";
import {
  type ClusterState,
  type ComponentState,
  clearState,
  initialState,
  logPath,
  writeState,
} from "./cluster-state.js";
import { removeInstanceContainers, removeNetworks } from "./docker-cleanup.js";
import { probe } from "./health-probe.js";
import { type ClaimOptions, claimHost, releaseHost } from "./host-claim.js";
import { tailFile } from "./log-tail.js";
import {
  isAlive,
  type Launch,
  launchFor,
  repoRoot,
  runsBinary,
  runToExit,
  startDetached,
  stopProcess,
} from "./process-control.js";
import type { ProgressDisplay } from "./progress-display.js";
import { ensureServiceAccountKey } from "./service-account-key.js";

/**
 * How long one stage may take to become ready. The store needs an election (about 1-2 s) after
 * three Node processes start, which through tsx on a busy 2-core machine takes ~10 s; 60 s
 * leaves room without hiding a component that never comes up.
 */
export const STAGE_READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 250;
/**
 * A component that exits before it is ready is started again, at most this many times in all,
 * as a service manager's Restart=on-failure would: a daemon that lost a start-up race (a write
 * conflict with a controller) comes up on the next try, one that cannot start fails fast.
 */
export const START_ATTEMPTS = 3;
/** Log lines shown for a component that did not become healthy. */
export const FAILURE_LOG_LINES = 20;

export class StartFailure extends Error {
  override readonly name = "StartFailure";
  readonly component: string;
  readonly logLines: readonly string[];
  /** True when the process exited (rather than never answering in time). */
  readonly exited: boolean;
  constructor(component: string, reason: string, logLines: readonly string[], exited = false) {
    super(`${component} did not become ready: ${reason}`);
    this.component = component;
    this.logLines = logLines;
    this.exited = exited;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `component` answers /readyz; rejects with StartFailure on exit or timeout. */
async function waitReady(component: ComponentState, deadline: number): Promise<void> {
  let last = "not probed yet";
  for (;;) {
    if (!isAlive(component.pid)) {
      throw new StartFailure(
        component.name,
        `the process exited (pid ${component.pid}); log: ${component.log}`,
        await tailFile(component.log, FAILURE_LOG_LINES),
        true,
      );
    }
    const result = await probe(component.readyUrl);
    if (result.ok) return;
    last = result.detail;
    if (Date.now() > deadline) {
      throw new StartFailure(
        component.name,
        `${component.readyUrl} still answers "${last}" after ${STAGE_READY_TIMEOUT_MS / 1000}s; log: ${component.log}`,
        await tailFile(component.log, FAILURE_LOG_LINES),
      );
    }
    await sleep(READY_POLL_MS);
  }
}

export interface StartOptions {
  readonly plan: ClusterPlan;
  readonly launchFor: (component: ComponentPlan) => Launch;
  readonly cwd: string;
  readonly display: ProgressDisplay;
  readonly now: Date;
  /**
   * The host claim a cluster with agents takes first (host-claim.ts); tests that bring up
   * clusters pass `waitMs` to queue behind another one instead of failing.
   */
  readonly hostClaim?: ClaimOptions;
}

/**
 * Starts every component of the plan, stage by stage. Returns the state of the running
 * cluster; on a failure rejects with StartFailure, leaving in the state file what was started
 * (the caller stops it).
 */
export async function startCluster(options: StartOptions): Promise<ClusterState> {
  const { plan, display } = options;
  if (plan.components.some((c) => c.binary === "tug-agent"))
    await claimHost(plan.dataDir, options.hostClaim);
  // The API server and controller manager read the key pair at start (cluster-plan.ts flags).
  await ensureServiceAccountKey(plan.dataDir);
  let state = initialState(plan, options.now);
  // Components of a stage start and restart concurrently; their state writes go one by one.
  let writes: Promise<void> = writeState(state);
  const record = (running: ComponentState): Promise<void> => {
    const known = state.components.some((c) => c.name === running.name);
    state = {
      ...state,
      components: known
        ? state.components.map((c) => (c.name === running.name ? running : c))
        : [...state.components, running],
    };
    const snapshot = state;
    writes = writes.then(() => writeState(snapshot));
    return writes;
  };
  const start = async (component: ComponentPlan): Promise<ComponentState> => {
    if (component.criSocket !== undefined) {
      const dir = dirname(component.criSocket);
      await mkdir(dir, { recursive: true }).catch((err: Error) => {
        throw new CliError(
          `cannot make the CRI socket directory ${dir}: ${err.message}; run as root or give --run-dir a directory you can write`,
        );
      });
    }
    const log = logPath(plan.dataDir, component.name);
    const pid = await startDetached(options.launchFor(component), component.args, log, options.cwd);
    const running: ComponentState = { ...component, pid, log };
    await record(running);
    return running;
  };
  const bringUp = async (component: ComponentPlan, deadline: number): Promise<void> => {
    let running = await start(component);
    display.set(component.name, "starting", `pid ${running.pid}, :${component.ports[0]}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await waitReady(running, deadline);
        display.set(component.name, "healthy", `pid ${running.pid}, :${component.ports[0]}`);
        return;
      } catch (err) {
        const failure = err instanceof StartFailure ? err : undefined;
        if (failure?.exited === true && attempt < START_ATTEMPTS) {
          const why = (failure.logLines.at(-1) ?? "").slice(0, 100);
          running = await start(component);
          display.set(
            component.name,
            "starting",
            `pid ${running.pid}, restart ${attempt} after an exit: ${why}`,
          );
          continue;
        }
        display.set(component.name, "failed", failure === undefined ? String(err) : "see below");
        throw err;
      }
    }
  };
  for (const stage of STAGES) {
    const deadline = Date.now() + STAGE_READY_TIMEOUT_MS;
    const results = await Promise.allSettled(
      plan.components.filter((c) => c.stage === stage).map((c) => bringUp(c, deadline)),
    );
    await writes;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }
  return state;
}

/** One line of `tug down`'s progress. */
export type StopReport = (text: string) => void;

/**
 * Removes what the agents added to the host's network: every node's Docker network tug-<node>
 * (its containers are gone by now), then `tug-agent --cleanup` (kube-proxy's --cleanup: the
 * TUG- iptables chains, tug's routes) once, as those are host-wide. Reports, never throws:
 * `tug down` goes on.
 */
async function cleanupNetworking(agents: readonly ComponentState[], report: StopReport) {
  const nodes = agents.flatMap((a) => (a.node === undefined ? [] : [a.node]));
  const first = nodes[0];
  if (first === undefined) return;
  try {
    const removed = await removeNetworks(nodes.map(podNetworkOf));
    const root = repoRoot();
    const { code, output } = await runToExit(
      launchFor(root, "tug-agent", false),
      ["--cleanup", `--node-name=${first}`],
      root,
    );
    if (code !== 0) throw new Error(`tug-agent --cleanup exited with ${code}: ${output.trim()}`);
    report(`networking: removed the TUG- chains, routes and ${removed.length} Docker network(s)`);
  } catch (err) {
    report(
      `networking: could not clean up (${(err as Error).message}); run: tug-agent --cleanup --node-name=${first}; docker network rm ${nodes.map(podNetworkOf).join(" ")}`,
    );
  }
}

/**
 * Stops the cluster: agents first (so nothing recreates containers), then removes the
 * runtimes' containers by their Docker instance label and the agents' networking (chains,
 * routes, Docker networks), then the runtimes, control plane, API server and store. Processes
 * that are not (or no longer) ours are skipped. The state and pid files are removed at the
 * end; data stays.
 */
export async function stopCluster(
  state: ClusterState,
  report: StopReport,
  claim: ClaimOptions = {},
): Promise<void> {
  const byStage = (stage: string) => state.components.filter((c) => c.stage === stage);
  const stopAll = async (components: readonly ComponentState[]) => {
    await Promise.all(
      components.map(async (c) => {
        if (!(await runsBinary(c.pid, c.binary))) {
          report(`${c.name}: not running`);
          return;
        }
        const how = await stopProcess(c.pid);
        report(
          `${c.name}: stopped (pid ${c.pid}${how === "killed" ? ", killed after the grace period" : ""})`,
        );
      }),
    );
  };
  await stopAll(byStage("agent"));
  const instances = state.components
    .map((c) => c.criInstance)
    .filter((i): i is string => i !== undefined);
  if (instances.length > 0) {
    try {
      const removed = await removeInstanceContainers(instances);
      report(`containers: removed ${removed}`);
    } catch (err) {
      report(
        `containers: could not remove them through Docker (${(err as Error).message}); remove them with: docker rm -f $(docker ps -aq --filter label=io.tug.cri.instance=${instances[0]})`,
      );
    }
  }
  await cleanupNetworking(byStage("agent"), report);
  for (const stage of [...STAGES].reverse().filter((s) => s !== "agent")) {
    await stopAll(byStage(stage));
  }
  await clearState(state.dataDir);
  await releaseHost(state.dataDir, claim);
}

export interface ComponentHealth {
  readonly component: ComponentState;
  readonly running: boolean;
  readonly health: string;
  readonly healthy: boolean;
  /** For store members: their Raft role and term from /raft. */
  readonly raft?: { role: string; term: number; lead: string; memberId: string };
}

async function raftStatus(
  healthUrl: string,
): Promise<{ role: string; term: number; lead: string; memberId: string } | undefined> {
  try {
    const response = await fetch(healthUrl.replace(/\/healthz$/, "/raft"), {
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) return undefined;
    const raft = (await response.json()) as Record<string, unknown>;
    return {
      role: String(raft.role ?? "unknown"),
      term: Number(raft.term ?? 0),
      lead: String(raft.lead ?? ""),
      memberId: String(raft.memberId ?? ""),
    };
  } catch {
    return undefined;
  }
}

/** Every component's process and /healthz, probed at once. */
export async function clusterHealth(state: ClusterState): Promise<ComponentHealth[]> {
  return Promise.all(
    state.components.map(async (component) => {
      const running = await runsBinary(component.pid, component.binary);
      if (!running) {
        return { component, running, health: "not running", healthy: false };
      }
      const result = await probe(component.healthUrl);
      const raft =
        component.binary === "tug-store" ? await raftStatus(component.healthUrl) : undefined;
      return {
        component,
        running,
        health: result.ok ? "ok" : result.detail,
        healthy: result.ok,
        ...(raft === undefined ? {} : { raft }),
      };
    }),
  );
}

/** True when any process of the state still runs (a cluster from this data dir is up). */
export async function anyRunning(state: ClusterState): Promise<boolean> {
  for (const c of state.components) if (await runsBinary(c.pid, c.binary)) return true;
  return false;
}
