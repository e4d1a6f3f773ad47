// One local cluster with node agents per host at a time. The agents' networking is host-wide:
// the Docker networks tug-<node> and their pod CIDRs (from the same cluster CIDR), the routes,
// and the service proxy's TUG- iptables chains, which a second cluster's proxy would rewrite
// and a second `tug down` would remove. So `tug up` claims the host in a small file naming its
// data dir and its own pid, and `tug down` gives the claim back. A claim whose `tug up` has
// exited and whose cluster runs no process is stale and is taken over.

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CliError } from "../cli-error.js";
import { readState } from "./cluster-state.js";
import { isAlive, runsBinary } from "./process-control.js";

/** Where the claim lives: beside the default CRI sockets, on a tmpfs cleared at boot. */
export const HOST_CLAIM_PATH = "/run/tug/local-cluster-claim.json";
const CLAIM_POLL_MS = 1000;

interface Claim {
  readonly dataDir: string;
  /** The `tug up` (or test) process that claimed the host. */
  readonly pid: number;
}

export interface ClaimOptions {
  readonly path?: string;
  /** How long to wait for another cluster to go; 0 fails at once (what `tug up` does). */
  readonly waitMs?: number;
}

async function readClaim(path: string): Promise<Claim | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, "utf8")) as Partial<Claim>;
    if (typeof doc.dataDir === "string" && Number.isInteger(doc.pid)) return doc as Claim;
  } catch {
    // Missing or torn: treated as no claim.
  }
  return undefined;
}

/** Whether the claim's owner is still alive: its claiming process, or any of its daemons. */
async function live(claim: Claim): Promise<boolean> {
  if (claim.pid !== process.pid && isAlive(claim.pid)) return true;
  const state = await readState(claim.dataDir).catch(() => undefined);
  for (const c of state?.components ?? []) if (await runsBinary(c.pid, c.binary)) return true;
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Claims the host for the cluster of `dataDir` (again, if it holds the claim already). Throws
 * CliError naming the other cluster when it still runs after `waitMs`.
 */
export async function claimHost(dataDir: string, options: ClaimOptions = {}): Promise<void> {
  const path = options.path ?? HOST_CLAIM_PATH;
  const deadline = Date.now() + (options.waitMs ?? 0);
  await mkdir(dirname(path), { recursive: true }).catch((err: Error) => {
    throw new CliError(
      `cannot make ${dirname(path)} for the host claim: ${err.message}; tug up needs root (it programs iptables and routes)`,
    );
  });
  const mine = `${JSON.stringify({ dataDir, pid: process.pid } satisfies Claim)}\n`;
  for (;;) {
    try {
      await writeFile(path, mine, { flag: "wx" });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const claim = await readClaim(path);
    if (claim?.dataDir === dataDir) {
      await writeFile(path, mine);
      return;
    }
    if (claim === undefined || !(await live(claim))) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new CliError(
        `another local tug cluster (data dir ${claim.dataDir}) runs on this host; its node networks, routes and service rules are host-wide, so one runs at a time: stop it with tug down --data-dir ${claim.dataDir}`,
      );
    }
    await sleep(CLAIM_POLL_MS);
  }
}

/** Gives the claim back if the cluster of `dataDir` holds it. */
export async function releaseHost(dataDir: string, options: ClaimOptions = {}): Promise<void> {
  const path = options.path ?? HOST_CLAIM_PATH;
  if ((await readClaim(path))?.dataDir === dataDir) await rm(path, { force: true });
}
