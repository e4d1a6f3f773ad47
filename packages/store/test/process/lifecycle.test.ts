// tug-store's start and stop as a real process: bad settings stop it before anything starts,
// a port in use stops it with nothing left behind, a data dir of another cluster is refused
// with what to do, and SIGTERM stops it gracefully with exit 0 and JSON logs throughout.

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePorts, LocalCluster } from "../../bench/cluster.js";
import { HEAP_GROWING_PERCENT } from "../../src/process/gc-tuning.js";
import { logRecords, runToExit } from "./support.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "tug-store-lifecycle-"));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** Flags for a one-member cluster on fresh ports. */
async function soloFlags(
  dataDir: string,
  token = "solo",
): Promise<{ flags: string[]; ports: number[] }> {
  const ports = await freePorts(3);
  const [client, peer, metrics] = ports.map((p) => `http://127.0.0.1:${p}`) as [
    string,
    string,
    string,
  ];
  return {
    ports,
    flags: [
      "--name=solo",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=solo=${peer}`,
      `--initial-cluster-token=${token}`,
      `--listen-metrics-urls=${metrics}`,
    ],
  };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

describe("tug-store start and stop", () => {
  it("bad settings: exit 2 with every problem, naming the flag and the fix", async () => {
    const r = await runToExit("tug", ["--election-timeout=50", "--initial-cluster-state=join"], {
      TUG_STORE_SNAPSHOT_COUNT: "x",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      [
        "tug-store: invalid configuration:",
        '  - --initial-cluster-state "join" must be "new" (bootstrap a cluster) or "existing" (join one after etcdctl member add)',
        "  - --election-timeout 50 must be at least 5x --heartbeat-interval 100: raise --election-timeout to 500 or more, or lower --heartbeat-interval",
        '  - --snapshot-count (set by TUG_STORE_SNAPSHOT_COUNT) "x" is not a whole number',
        "Run tug-store --help for the flags.",
        "",
      ].join("\n"),
    );
  });

  it("a port in use: exit 1 naming the URL; nothing left listening, no data dir created", async () => {
    const dir = join(await tempDir(), "member");
    const { flags, ports } = await soloFlags(dir);
    const metricsPort = ports[2] as number;
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(metricsPort, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => blocker.close(() => r())));

    const r = await runToExit("tug", flags);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `tug-store: cannot listen on http://127.0.0.1:${metricsPort}: the port is in use by another process\n`,
    );
    const errors = logRecords(r.stderr).filter((l) => l.level === "error");
    expect(errors.map((l) => l.msg)).toEqual(["cannot start"]);
    // The peer listener it had opened is closed again, and the member never touched its dir.
    expect(await portIsFree(ports[1] as number)).toBe(true);
    expect(await portIsFree(ports[0] as number)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  it("a data dir of another cluster: refused with what to do", async () => {
    // Cluster A creates the data dir and stops.
    const a = await LocalCluster.create({ kind: "tug", size: 1, token: "cluster-a" });
    cleanups.push(() => a.stop());
    await a.start();
    const m = a.members[0];
    if (m === undefined) throw new Error("no member");
    const stop = await a.kill(m.name, "SIGTERM");
    expect(stop).toEqual({ code: 0, signal: null });

    // The same name and URLs under another token are another cluster: the member must refuse.
    const r = await runToExit("tug", [...a.flags(m), "--initial-cluster-token=cluster-b"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `tug-store: --data-dir ${m.dataDir} holds member [0-9a-f]+ of cluster [0-9a-f]+ \\(created with --initial-cluster-token cluster-a\\), but --name, --initial-cluster and ` +
          "--initial-cluster-token make this member [0-9a-f]+ of cluster [0-9a-f]+: start it with the flags its data " +
          "directory was created with, or with an empty --data-dir\\n",
      ),
    );
    // Nothing was served: the client port is free again.
    expect(await portIsFree(Number(new URL(m.clientUrl).port))).toBe(true);

    // With its own flags it starts again on the same data dir.
    await a.startMember(m.name);
  }, 120_000);

  it("SIGTERM: graceful stop, exit 0, JSON logs of start, role change and stop", async () => {
    const c = await LocalCluster.create({ kind: "tug", size: 1, token: "sigterm" });
    cleanups.push(() => c.stop());
    await c.start();
    const name = c.members[0]?.name as string;
    expect(await c.kill(name, "SIGTERM")).toEqual({ code: 0, signal: null });
    const records = logRecords(await c.logTail(name, 1000));
    for (const r of records) {
      expect(Object.keys(r).slice(0, 4)).toEqual(["ts", "level", "component", "msg"]);
    }
    const msgs = records.map((r) => `${r.component}: ${r.msg}`);
    expect(msgs[0]).toBe("tug-store: starting");
    // The process set V8's heap growing factor (process/gc-tuning.ts) before it started.
    expect((records[0]?.fields as Record<string, unknown> | undefined)?.v8HeapGrowingPercent).toBe(
      HEAP_GROWING_PERCENT,
    );
    expect(msgs).toContain("server: became leader");
    expect(msgs).toContain("raft: term changed");
    expect(msgs).toContain("tug-store: serving");
    expect(msgs).toContain("tug-store: stopping");
    expect(msgs.at(-1)).toBe("tug-store: stopped");
    expect(records.find((r) => r.msg === "stopping")?.fields).toEqual({
      reason: "received SIGTERM",
    });
  }, 120_000);
});
