// `tug down`: stops the local cluster started by `tug up` from the same data dir (SIGTERM,
// SIGKILL after a grace period), removes the containers its runtimes made, and keeps the data
// (store, agent volumes, logs) unless --purge.

import { rm } from "node:fs/promises";
import type { CommandContext } from "../command-context.js";
import { readState } from "../local-cluster/cluster-state.js";
import { stopCluster } from "../local-cluster/supervisor.js";
import { dataDirOf } from "./up.js";

export interface DownOptions {
  dataDir?: string;
  /** Also delete the data dir: the store's data, agent volumes and logs. */
  purge: boolean;
}

export async function runDown(ctx: CommandContext, options: DownOptions): Promise<number> {
  const dataDir = dataDirOf(ctx, options.dataDir);
  const state = await readState(dataDir);
  if (state === undefined) {
    ctx.out(`No tug cluster was started from ${dataDir}.\n`);
  } else {
    ctx.out(`Stopping the tug cluster in ${dataDir}\n`);
    await stopCluster(state, (line) => ctx.out(`  ${line}\n`));
  }
  if (options.purge) {
    await rm(dataDir, { recursive: true, force: true });
    ctx.out(`Removed ${dataDir}.\n`);
  } else if (state !== undefined) {
    ctx.out(`Data kept in ${dataDir} (tug down --purge removes it).\n`);
  }
  return 0;
}
