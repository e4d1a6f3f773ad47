// `tug up --agents 1` for real: the daemons as detached processes from source, a pod through
// Docker, `tug status`, `tug get nodes`, then `tug down` leaves no process and no container.
// Runs on its own ports (--base-port 3379) and data dir, and cleans up in afterAll even when
// a step fails.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/local-cluster/cluster-state.js";
import {
  listInstanceContainers,
  removeInstanceContainers,
} from "../../src/local-cluster/docker-cleanup.js";
import { isAlive } from "../../src/local-cluster/process-control.js";
import { stopCluster } from "../../src/local-cluster/supervisor.js";

const ROOT = join(import.meta.dirname, "../../../..");
const TUG = join(ROOT, "packages/cli/bin/tug.ts");
const POD = join(ROOT, "packages/api/test/fixtures/client-pod.yaml");
const BASE_PORT = "3379";

let dir: string;
let dataDir: string;
let instances: string[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function tug(args: string[], timeoutMs = 150_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", TUG, ...args],
      { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, TUGCONFIG: join(dir, "config") } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-up-e2e-"));
  dataDir = join(dir, "data");
});

afterAll(async () => {
  const state = await readState(dataDir).catch(() => undefined);
  if (state !== undefined) await stopCluster(state, () => {});
  if (instances.length > 0) await removeInstanceContainers(instances).catch(() => 0);
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe("tug up / status / down", () => {
  it("brings up a one-node cluster, runs a pod, and leaves nothing behind", async () => {
    const common = ["--data-dir", dataDir];
    const up = await tug([
      "up",
      ...common,
      "--run-dir",
      join(dir, "run"),
      "--agents",
      "1",
      "--base-port",
      BASE_PORT,
      "--from-source",
    ]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("✓ nodes Ready");
    expect(up.stdout).toContain("tug get nodes");

    const state = await readState(dataDir);
    if (state === undefined) throw new Error("tug up wrote no state file");
    instances = state.components.flatMap((c) =>
      c.criInstance === undefined ? [] : [c.criInstance],
    );
    expect(state.components).toHaveLength(8);
    expect(instances).toHaveLength(1);

    const again = await tug(["up", ...common, "--base-port", BASE_PORT]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is already running");

    const status = await tug(["status", ...common]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/8 of 8 processes running/);
    expect(status.stdout).toMatch(/store leader: store-[123] \(term \d+\)/);
    expect(status.stdout).toMatch(/agent-tug-node-1\s+\d+\s+11250\s+ok/);

    const nodes = await tug(["get", "nodes"]);
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(/tug-node-1\s+Ready/);

    const apply = await tug(["apply", "-f", POD]);
    expect(apply.code).toBe(0);
    let containers: string[] = [];
    for (let i = 0; i < 120 && containers.length < 2; i++) {
      containers = await listInstanceContainers(instances);
      await sleep(500);
    }
    expect(containers.length).toBeGreaterThanOrEqual(2);

    const down = await tug(["down", ...common]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/containers: removed [1-9]/);
    for (const c of state.components) expect(isAlive(c.pid), c.name).toBe(false);
    expect(await listInstanceContainers(instances)).toEqual([]);
    expect(await readState(dataDir)).toBeUndefined();

    const after = await tug(["status", ...common]);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain("No tug cluster was started");
  }, 180_000);
});
