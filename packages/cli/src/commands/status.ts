// `tug status`: every component of the local cluster with its pid, ports and /healthz, the
// store members' Raft roles and who leads. Exits 1 when a component is unhealthy or when no
// cluster was started from the data dir, so scripts can wait on it.

import type { CommandContext } from "../command-context.js";
import { readState } from "../local-cluster/cluster-state.js";
import { clusterHealth } from "../local-cluster/supervisor.js";
import { formatTable } from "../printers/table.js";
import { dataDirOf } from "./up.js";

export interface StatusOptions {
  dataDir?: string;
}

export async function runStatus(ctx: CommandContext, options: StatusOptions): Promise<number> {
  const dataDir = dataDirOf(ctx, options.dataDir);
  const state = await readState(dataDir);
  if (state === undefined) {
    ctx.out(`No tug cluster was started from ${dataDir}; start one with \`tug up\`.\n`);
    return 1;
  }
  const health = await clusterHealth(state);
  const rows = health.map((h) => [
    h.component.name,
    h.running ? String(h.component.pid) : "-",
    h.component.ports.join(","),
    h.health,
    h.raft === undefined ? (h.component.node ?? "") || "-" : `${h.raft.role} (term ${h.raft.term})`,
  ]);
  const running = health.filter((h) => h.running).length;
  ctx.out(
    `tug cluster in ${dataDir}, started ${state.startedAt}, API server ${state.apiServer}: ${running} of ${health.length} processes running\n`,
  );
  ctx.out(formatTable(["COMPONENT", "PID", "PORTS", "HEALTH", "ROLE/NODE"], rows));
  const leader = health.find((h) => h.raft?.role.toLowerCase() === "leader");
  ctx.out(
    leader === undefined
      ? "store leader: none known\n"
      : `store leader: ${leader.component.name} (term ${leader.raft?.term})\n`,
  );
  return health.every((h) => h.healthy) ? 0 : 1;
}
