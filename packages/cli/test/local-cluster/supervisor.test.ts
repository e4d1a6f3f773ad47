// The supervisor on stand-in daemons: small node scripts that serve /readyz on their port (or
// exit), started detached exactly as the real ones are. Checks the restart of a component
// that exits before it is ready, the failure report with the log's last lines, and stopping.

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ClusterPlan, ComponentPlan } from "../../src/local-cluster/cluster-plan.js";
import { readState } from "../../src/local-cluster/cluster-state.js";
import { isAlive, type Launch } from "../../src/local-cluster/process-control.js";
import { ProgressDisplay } from "../../src/local-cluster/progress-display.js";
import { StartFailure, startCluster, stopCluster } from "../../src/local-cluster/supervisor.js";

/**
 * argv: port, marker file, mode. "flaky": exits 1 unless the marker exists (and creates it);
 * "broken": prints a reason and exits 1; otherwise serves /readyz. The trailing "tug-store"
 * argument makes /proc/<pid>/cmdline name the binary, as the real daemon's does.
 */
const DAEMON = `
const [port, marker, mode] = process.argv.slice(1);
const fs = require("node:fs");
if (mode === "broken") { console.error("cannot start: the flux capacitor is missing"); process.exit(1); }
if (mode === "flaky" && !fs.existsSync(marker)) { fs.writeFileSync(marker, ""); console.error("lost a race"); process.exit(1); }
require("node:http").createServer((q, s) => s.end("ok")).listen(Number(port), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

const dirs: string[] = [];
const pids: number[] = [];
afterAll(async () => {
  for (const pid of pids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === "object" && address !== null ? address.port : 0),
      );
    });
  });
}

async function fakePlan(modes: Record<string, string>): Promise<ClusterPlan> {
  const dataDir = await mkdtemp(join(tmpdir(), "tug-supervisor-"));
  dirs.push(dataDir);
  const components: ComponentPlan[] = [];
  for (const [name, mode] of Object.entries(modes)) {
    const port = await freePort();
    components.push({
      name,
      binary: "tug-store",
      stage: "store",
      args: [String(port), join(dataDir, `${name}.marker`), mode, "tug-store"],
      ports: [port],
      readyUrl: `http://127.0.0.1:${port}/readyz`,
      healthUrl: `http://127.0.0.1:${port}/healthz`,
    });
  }
  return { dataDir, runDir: dataDir, clusterId: "test", apiServer: "", nodes: [], components };
}

const launch = (): Launch => ({
  command: process.execPath,
  args: ["-e", DAEMON],
  fromSource: false,
});

function display(plan: ClusterPlan, lines: string[]): ProgressDisplay {
  return new ProgressDisplay(
    { write: (t) => lines.push(t) },
    false,
    plan.components.map((c) => c.name),
  );
}

describe("startCluster and stopCluster", () => {
  it("restarts a component that exits before it is ready, then stops everything", async () => {
    const plan = await fakePlan({ steady: "serve", flaky: "flaky" });
    const lines: string[] = [];
    const state = await startCluster({
      plan,
      launchFor: launch,
      cwd: plan.dataDir,
      display: display(plan, lines),
      now: new Date(),
    });
    for (const c of state.components) pids.push(c.pid);
    expect(lines.join("")).toMatch(/flaky .*restart 1 after an exit: lost a race/);
    expect(lines.join("")).toMatch(/✓ flaky/);
    expect(await readState(plan.dataDir)).toEqual(state);
    expect(state.components.every((c) => isAlive(c.pid))).toBe(true);

    const report: string[] = [];
    await stopCluster(state, (line) => report.push(line));
    expect(report.sort()).toEqual([
      `flaky: stopped (pid ${state.components[1]?.pid})`,
      `steady: stopped (pid ${state.components[0]?.pid})`,
    ]);
    expect(state.components.some((c) => isAlive(c.pid))).toBe(false);
    expect(existsSync(join(plan.dataDir, "cluster.json"))).toBe(false);
  }, 60_000);

  it("gives up after three exits with the log's last lines, keeping the state for tug down", async () => {
    const plan = await fakePlan({ steady: "serve", broken: "broken" });
    const lines: string[] = [];
    const failure = await startCluster({
      plan,
      launchFor: launch,
      cwd: plan.dataDir,
      display: display(plan, lines),
      now: new Date(),
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const state = await readState(plan.dataDir);
    for (const c of state?.components ?? []) pids.push(c.pid);
    expect(failure).toBeInstanceOf(StartFailure);
    expect((failure as StartFailure).component).toBe("broken");
    expect((failure as StartFailure).logLines.at(-1)).toBe(
      "cannot start: the flux capacitor is missing",
    );
    expect(lines.join("")).toMatch(/restart 2 after an exit/);
    expect(lines.join("")).toMatch(/✗ broken/);
    expect(lines.join("")).toMatch(/✓ steady/);
    if (state === undefined) throw new Error("no state written");
    await stopCluster(state, () => {});
    expect(state.components.some((c) => isAlive(c.pid))).toBe(false);
  }, 60_000);
});
