// The state file of a running local cluster, <data-dir>/cluster.json: what `tug up` started
// (pid, ports, health URLs, log file per component) so that `tug status` and `tug down` find
// it again from another process. Each component also gets <data-dir>/run/<name>.pid, the
// conventional pid file, for tools that expect one.

import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "../cli-error.js";
import type { ClusterPlan, ComponentPlan } from "./cluster-plan.js";

export const STATE_FILE = "cluster.json";
const STATE_VERSION = 1;

export interface ComponentState extends ComponentPlan {
  readonly pid: number;
  readonly log: string;
}

export interface ClusterState {
  readonly version: typeof STATE_VERSION;
  /** RFC 3339 time `tug up` started the cluster. */
  readonly startedAt: string;
  readonly dataDir: string;
  readonly runDir: string;
  readonly clusterId: string;
  readonly apiServer: string;
  readonly nodes: readonly string[];
  readonly components: readonly ComponentState[];
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

export function pidPath(dataDir: string, component: string): string {
  return join(dataDir, "run", `${component}.pid`);
}

export function logPath(dataDir: string, component: string): string {
  return join(dataDir, "logs", `${component}.log`);
}

/** A new state for `plan` with no component started yet. */
export function initialState(plan: ClusterPlan, startedAt: Date): ClusterState {
  return {
    version: STATE_VERSION,
    startedAt: startedAt.toISOString(),
    dataDir: plan.dataDir,
    runDir: plan.runDir,
    clusterId: plan.clusterId,
    apiServer: plan.apiServer,
    nodes: plan.nodes,
    components: [],
  };
}

/** Parses cluster.json; errors name the file and say how to recover. */
export function parseState(source: string, path: string): ClusterState {
  let doc: unknown;
  try {
    doc = JSON.parse(source);
  } catch (err) {
    throw new CliError(
      `state file ${path} is not valid JSON (${(err as Error).message}); stop leftover processes by their pid files in run/, then remove it`,
    );
  }
  const state = doc as Partial<ClusterState> | null;
  if (
    state === null ||
    typeof state !== "object" ||
    state.version !== STATE_VERSION ||
    !Array.isArray(state.components) ||
    typeof state.dataDir !== "string"
  ) {
    throw new CliError(
      `state file ${path} is not a version ${STATE_VERSION} tug cluster state; remove it once no tug process from this data dir runs`,
    );
  }
  for (const [i, c] of state.components.entries()) {
    if (typeof c?.name !== "string" || !Number.isInteger(c?.pid)) {
      throw new CliError(`state file ${path}: components[${i}] needs a name and a pid`);
    }
  }
  return state as ClusterState;
}

/** The state of the cluster in `dataDir`, or undefined when none was started there. */
export async function readState(dataDir: string): Promise<ClusterState | undefined> {
  const path = statePath(dataDir);
  let source: string;
  try {
    source = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseState(source, path);
}

/** Writes the state atomically (temporary file, then rename) with each component's pid file. */
export async function writeState(state: ClusterState): Promise<void> {
  await mkdir(join(state.dataDir, "run"), { recursive: true });
  for (const c of state.components) {
    await writeFile(pidPath(state.dataDir, c.name), `${c.pid}\n`);
  }
  const path = statePath(state.dataDir);
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, path);
}

/** Removes the state file and pid files: nothing of the cluster runs any more. */
export async function clearState(dataDir: string): Promise<void> {
  await rm(statePath(dataDir), { force: true });
  await rm(join(dataDir, "run"), { recursive: true, force: true });
}
