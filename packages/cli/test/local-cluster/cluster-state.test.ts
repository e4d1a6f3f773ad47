import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planCluster } from "../../src/local-cluster/cluster-plan.js";
import {
  clearState,
  initialState,
  parseState,
  pidPath,
  readState,
  statePath,
  writeState,
} from "../../src/local-cluster/cluster-state.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("cluster state file", () => {
  it("round-trips through cluster.json with a pid file per component, and clears", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "tug-state-"));
    dirs.push(dataDir);
    const plan = planCluster({ dataDir, runDir: "/run/tug", agents: 1, basePort: 2379 });
    const [first] = plan.components;
    if (first === undefined) throw new Error("plan has no components");
    const state = {
      ...initialState(plan, new Date("2026-12-05T10:00:00Z")),
      components: [{ ...first, pid: 4242, log: join(dataDir, "logs", "store-1.log") }],
    };
    expect(await readState(dataDir)).toBeUndefined();
    await writeState(state);
    expect(await readState(dataDir)).toEqual(state);
    expect(await readFile(pidPath(dataDir, "store-1"), "utf8")).toBe("4242\n");
    await clearState(dataDir);
    expect(await readState(dataDir)).toBeUndefined();
    await expect(readFile(pidPath(dataDir, "store-1"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("names the file and the fix for bad JSON or a foreign shape", () => {
    expect(() => parseState("{", "/d/cluster.json")).toThrow(/\/d\/cluster.json is not valid JSON/);
    expect(() => parseState('{"version":2}', "/d/cluster.json")).toThrow(/not a version 1/);
    expect(() =>
      parseState('{"version":1,"dataDir":"/d","components":[{"name":"x"}]}', "/d/cluster.json"),
    ).toThrow(/components\[0\] needs a name and a pid/);
  });

  it("keeps the state in <data-dir>/cluster.json", () => {
    expect(statePath("/d")).toBe("/d/cluster.json");
  });
});
