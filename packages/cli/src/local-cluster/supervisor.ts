// The local cluster's supervisor: starts the plan's daemons stage by stage (store, API server,
// scheduler, controller manager and runtimes, agents), each only once the stage before answers
// /readyz; stops them in the reverse order; and reports each one's health. The state file is
// rewritten after every start, so a `tug up` interrupted half-way leaves what `tug down` needs.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { type ClusterPlan, type ComponentPlan, STAGES } from "./cluster-plan.js";
import {
  type ClusterState,
  type ComponentState,
  clearState,
  initialState,
  logPath,
  writeState,
} from "./cluster-state.js";
import { removeInstanceContainers } from "./docker-cleanup.js";
import { probe } from "./health-probe.js";
import { tailFile } from "./log-tail.js";
import { isAlive, type Launch, runsBinary, startDetached, stopProcess } from "./process-control.js";
import type { ProgressDisplay } from "./progress-display.js";

/**
 * How long one stage may take to become ready. The store needs an election (about 1-2 s) after
 * three Node processes start, which through tsx on a busy 2-core machine takes ~10 s; 60 s
 * leaves room without hiding a component that never comes up.
 */
export const STAGE_READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 250;
/** Log lines shown for a component that did not become healthy. */
export const FAILURE_LOG_LINES = 20;

export class StartFailure extends Error {
  override readonly name = "StartFailure";
  readonly component: string;
  readonly logLines: readonly string[];
  constructor(component: string, reason: string, logLines: readonly string[]) {
    super(`${component} did not become ready: ${reason}`);
    this.component = component;
    this.logLines = logLines;
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
}

/**
 * Starts every component of the plan, stage by stage. Returns the state of the running
 * cluster; on a failure rejects with StartFailure, leaving in the state file what was started
 * (the caller stops it).
 */
export async function startCluster(options: StartOptions): Promise<ClusterState> {
  const { plan, display } = options;
  let state = initialState(plan, options.now);
  await writeState(state);
  for (const stage of STAGES) {
    const started: ComponentState[] = [];
    for (const component of plan.components.filter((c) => c.stage === stage)) {
      if (component.criSocket !== undefined) {
        await mkdir(dirname(component.criSocket), { recursive: true });
      }
      const log = logPath(plan.dataDir, component.name);
      const pid = await startDetached(
        options.launchFor(component),
        component.args,
        log,
        options.cwd,
      );
      const running: ComponentState = { ...component, pid, log };
      started.push(running);
      state = { ...state, components: [...state.components, running] };
      await writeState(state);
      display.set(component.name, "starting", `pid ${pid}, :${component.ports[0]}`);
    }
    const deadline = Date.now() + STAGE_READY_TIMEOUT_MS;
    await Promise.all(
      started.map(async (c) => {
        try {
          await waitReady(c, deadline);
          display.set(c.name, "healthy", `pid ${c.pid}, :${c.ports[0]}`);
        } catch (err) {
          display.set(c.name, "failed", err instanceof StartFailure ? "see below" : String(err));
          throw err;
        }
      }),
    );
  }
  return state;
}

/** One line of `tug down`'s progress. */
export type StopReport = (text: string) => void;

/**
 * Stops the cluster: agents first (so nothing recreates containers), then removes the
 * runtimes' containers by their Docker instance label, then the runtimes, control plane, API
 * server and store. Processes that are not (or no longer) ours are skipped. The state and pid
 * files are removed at the end; data stays.
 */
export async function stopCluster(state: ClusterState, report: StopReport): Promise<void> {
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
  for (const stage of [...STAGES].reverse().filter((s) => s !== "agent")) {
    await stopAll(byStage(stage));
  }
  await clearState(state.dataDir);
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
