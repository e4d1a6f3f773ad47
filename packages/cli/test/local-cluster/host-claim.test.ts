// The host claim: one local cluster with agents per host. A second claim fails naming the
// first cluster (or waits for it), a claim of a cluster that is gone is taken over.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimHost, releaseHost } from "../../src/local-cluster/host-claim.js";

let dir: string;
let path: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-host-claim-"));
  path = join(dir, "claim.json");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("host claim", () => {
  it("refuses a second cluster while the first one's process lives, then lets it in", async () => {
    // Another `tug up` holding the claim: a live process of ours, killed in the end.
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      await writeFile(path, JSON.stringify({ dataDir: "/data/first", pid: other.pid }));
      await expect(claimHost("/data/second", { path })).rejects.toThrow(
        /another local tug cluster \(data dir \/data\/first\) runs on this host.*tug down --data-dir \/data\/first/,
      );
      const waiting = claimHost("/data/second", { path, waitMs: 60_000 });
      other.kill("SIGKILL");
      await waiting;
      expect(JSON.parse(await readFile(path, "utf8"))).toEqual({
        dataDir: "/data/second",
        pid: process.pid,
      });
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("lets the same cluster claim again and releases only its own claim", async () => {
    await claimHost("/data/second", { path });
    await releaseHost("/data/other", { path });
    expect(JSON.parse(await readFile(path, "utf8")).dataDir).toBe("/data/second");
    await releaseHost("/data/second", { path });
    await expect(readFile(path, "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("takes over a claim whose process is gone and whose cluster runs nothing", async () => {
    await writeFile(path, JSON.stringify({ dataDir: join(dir, "gone"), pid: 2 ** 22 + 1 }));
    await claimHost("/data/third", { path });
    expect(JSON.parse(await readFile(path, "utf8")).dataDir).toBe("/data/third");
    await releaseHost("/data/third", { path });
  });
});
