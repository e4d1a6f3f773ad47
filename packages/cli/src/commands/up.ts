// `tug up`: a whole cluster on this machine — a 3-member tug-store, an API server, the
// scheduler, the controller manager, and per node a tug-cri-docker runtime and a tug-agent —
// started as detached processes, waited on stage by stage, then the nodes waited on until
// Ready through the API, and the CLI config pointed at it (context "tug-local").
// Timings shorter than Kubernetes' defaults are used and said (DESIGN.md).

import { homedir } from "node:os";
import { resolve } from "node:path";
import { resolveKindName } from "@tug/api";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { loadConfig, saveConfig } from "../config/tug-config.js";
import {
  type ClusterPlan,
  DEFAULT_AGENTS,
  DEFAULT_BASE_PORT,
  LOCAL_LEADER_ELECTION,
  LOCAL_NODE_STATUS_UPDATE,
  planCluster,
} from "../local-cluster/cluster-plan.js";
import { readState } from "../local-cluster/cluster-state.js";
import { LOCAL_NAME, withLocalCluster } from "../local-cluster/local-config.js";
import { launchFor, repoRoot } from "../local-cluster/process-control.js";
import { ProgressDisplay } from "../local-cluster/progress-display.js";
import {
  anyRunning,
  StartFailure,
  startCluster,
  stopCluster,
} from "../local-cluster/supervisor.js";
import { toJson } from "./object-json.js";

export const DEFAULT_RUN_DIR = "/run/tug";

/** The nodes register within seconds of their agents being ready; status follows every 5 s. */
export const NODES_READY_TIMEOUT_MS = 60_000;
const NODES_POLL_MS = 500;
/** Heartbeat times are whole seconds (RFC 3339), so allow one second of rounding. */
const HEARTBEAT_CLOCK_SLACK_MS = 1000;

export interface UpOptions {
  dataDir?: string;
  runDir?: string;
  agents?: string;
  basePort?: string;
  /** Run the daemons from their TypeScript sources even when dist/ is built. */
  fromSource: boolean;
  /** Redraw progress in place (stdout is a terminal). */
  tty: boolean;
}

/** ~/.tug/cluster, or --data-dir made absolute. */
export function dataDirOf(ctx: CommandContext, flag: string | undefined): string {
  if (flag !== undefined && flag !== "") return resolve(flag);
  const home = ctx.io.env.HOME ?? homedir();
  return resolve(home, ".tug", "cluster");
}

function wholeNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new CliError(`--${flag} "${value}": must be a whole number`);
  return Number(value);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * TUG_UP_HOST_WAIT_SECONDS: how long `tug up` waits for another local cluster on this host to
 * go (host-claim.ts) before it fails; 0 by default. Tests that run clusters side by side set it.
 */
export const HOST_WAIT_ENV = "TUG_UP_HOST_WAIT_SECONDS";

function hostWaitMs(ctx: CommandContext): number {
  const text = ctx.io.env[HOST_WAIT_ENV] ?? "0";
  if (!/^\d+$/.test(text))
    throw new CliError(`${HOST_WAIT_ENV}="${text}": must be a whole number of seconds`);
  return Number(text) * 1000;
}

/** Waits until every planned node is Ready=True through the API server. */
async function waitNodesReady(
  ctx: CommandContext,
  plan: ClusterPlan,
  since: number,
): Promise<void> {
  const client = ctx.io.connect(
    { server: plan.apiServer, token: "", namespace: "default", explicitNamespace: false },
    5000,
  );
  const nodes = resolveKindName("nodes");
  const deadline = Date.now() + NODES_READY_TIMEOUT_MS;
  let missing: string[] = [...plan.nodes];
  try {
    while (Date.now() < deadline) {
      try {
        const list = await client.list(nodes, "");
        const ready = new Set(
          list.items
            .map((item) => toJson(item))
            .filter((node) => {
              const status = node.status as {
                conditions?: { type?: string; status?: string; lastHeartbeatTime?: string }[];
              };
              // A Node kept from an earlier run (tug down keeps data) still says Ready: only a
              // heartbeat from this run's agent counts.
              return (status?.conditions ?? []).some(
                (c) =>
                  c.type === "Ready" &&
                  c.status === "True" &&
                  (c.lastHeartbeatTime === undefined ||
                    Date.parse(c.lastHeartbeatTime) >= since - HEARTBEAT_CLOCK_SLACK_MS),
              );
            })
            .map((node) => String((node.metadata as { name?: string })?.name ?? "")),
        );
        missing = plan.nodes.filter((n) => !ready.has(n));
        if (missing.length === 0) return;
      } catch {
        // The API server was ready a moment ago; a failed list is retried until the deadline.
      }
      await sleep(NODES_POLL_MS);
    }
  } finally {
    client.close();
  }
  throw new StartFailure(
    missing.join(", "),
    `node(s) not Ready after ${NODES_READY_TIMEOUT_MS / 1000}s; see the agents' logs`,
    [],
  );
}

export async function runUp(ctx: CommandContext, options: UpOptions): Promise<number> {
  const dataDir = dataDirOf(ctx, options.dataDir);
  const runDir = resolve(options.runDir ?? DEFAULT_RUN_DIR);
  const plan = planCluster({
    dataDir,
    runDir,
    agents: wholeNumber("agents", options.agents, DEFAULT_AGENTS),
    basePort: wholeNumber("base-port", options.basePort, DEFAULT_BASE_PORT),
  });
  const previous = await readState(dataDir);
  if (previous !== undefined && (await anyRunning(previous))) {
    throw new CliError(
      `a tug cluster from ${dataDir} is already running (started ${previous.startedAt}); see it with \`tug status\`, stop it with \`tug down\``,
    );
  }
  const root = repoRoot();
  let fromSource = false;
  const launch = (c: { binary: Parameters<typeof launchFor>[1] }) => {
    const l = launchFor(root, c.binary, options.fromSource);
    fromSource ||= l.fromSource;
    return l;
  };
  ctx.out(`Starting a local tug cluster in ${dataDir}\n`);
  ctx.out(
    `Local timings: leader election ${LOCAL_LEADER_ELECTION.leaseDuration}/${LOCAL_LEADER_ELECTION.renewDeadline}/${LOCAL_LEADER_ELECTION.retryPeriod} (Kubernetes: 15s/10s/2s), node status every ${LOCAL_NODE_STATUS_UPDATE} (kubelet: 10s).\n`,
  );
  const names = [...plan.components.map((c) => c.name), "nodes Ready"];
  const display = new ProgressDisplay(ctx.io.stdout, options.tty, names);
  try {
    const since = ctx.io.now();
    await startCluster({
      plan,
      launchFor: launch,
      cwd: root,
      display,
      now: since,
      hostClaim: { waitMs: hostWaitMs(ctx) },
    });
    display.set("nodes Ready", "starting", plan.nodes.join(", "));
    await waitNodesReady(ctx, plan, since.getTime());
    display.set("nodes Ready", "healthy", plan.nodes.join(", "));
  } catch (err) {
    display.close();
    const failure = err instanceof StartFailure ? err : undefined;
    ctx.io.stderr.write(`error: ${(err as Error).message}\n`);
    if (failure !== undefined && failure.logLines.length > 0) {
      ctx.io.stderr.write(`last lines of ${failure.component}'s log:\n`);
      for (const line of failure.logLines) ctx.io.stderr.write(`  ${line}\n`);
    }
    ctx.io.stderr.write("stopping everything that was started...\n");
    const state = await readState(dataDir);
    if (state !== undefined) await stopCluster(state, (line) => ctx.io.stderr.write(`  ${line}\n`));
    return 1;
  }
  display.close();

  const configFile = ctx.configPath();
  await saveConfig(configFile, withLocalCluster(await loadConfig(configFile), plan.apiServer));
  ctx.out(
    [
      "",
      `The cluster is up${fromSource ? " (daemons run from source through tsx; `pnpm build` makes them start faster)" : ""}.`,
      `API server: ${plan.apiServer}; logs: ${dataDir}/logs/; context "${LOCAL_NAME}" written to ${configFile} and made current.`,
      "",
      "Try next:",
      "  tug get nodes",
      "  tug apply -f packages/api/test/fixtures/client-deployment.yaml",
      "  tug apply -f packages/api/test/fixtures/client-node-port.yaml",
      "  tug get pods -o wide",
      "  curl http://127.0.0.1:31515/   (the NodePort Service, through the first node's proxy)",
      "  tug status",
      "  tug down",
      "",
    ].join("\n"),
  );
  return 0;
}
