// The metrics/health HTTP server on a real socket (port 0), the Prometheus text format of the
// registry, and the JSON logger's line format.

import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Check,
  type HttpEndpoints,
  ListenError,
  startHttpEndpoints,
} from "../../src/process/http-endpoints.js";
import { createLogger } from "../../src/process/logger.js";
import { exponentialBuckets, MetricsRegistry } from "../../src/process/metrics-registry.js";

const started: HttpEndpoints[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function start(health: () => Check, ready: () => Check, registry = new MetricsRegistry()) {
  const s = await startHttpEndpoints({
    urls: [{ url: "http://127.0.0.1:0", host: "127.0.0.1", port: 0 }],
    registry,
    health,
    ready,
    raft: () => ({ role: "leader", term: 3 }),
    version: () => ({ etcdserver: "3.4.0", etcdcluster: "3.4.0" }),
  });
  started.push(s);
  return s.urls[0] as string;
}

describe("HTTP endpoints", () => {
  it("/healthz mirrors etcd's /health: 200 {health:true}, 503 {health:false, reason}", async () => {
    let check: Check = { ok: true };
    const base = await start(
      () => check,
      () => ({ ok: true }),
    );
    let r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ health: "true" });
    r = await fetch(`${base}/health`);
    expect(await r.json()).toEqual({ health: "true" });

    check = { ok: false, reason: "RAFT NO LEADER" };
    r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ health: "false", reason: "RAFT NO LEADER" });
  });

  it("/readyz, /raft, /version; 404 and 405", async () => {
    const base = await start(
      () => ({ ok: true }),
      () => ({ ok: false, reason: "catching up" }),
    );
    let r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ready: "false", reason: "catching up" });
    r = await fetch(`${base}/raft`);
    expect(await r.json()).toEqual({ role: "leader", term: 3 });
    r = await fetch(`${base}/version`);
    expect(await r.json()).toEqual({ etcdserver: "3.4.0", etcdcluster: "3.4.0" });
    r = await fetch(`${base}/nope`);
    expect(r.status).toBe(404);
    r = await fetch(`${base}/metrics`, { method: "POST" });
    expect(r.status).toBe(405);
  });

  it("/metrics serves the registry in the text format", async () => {
    const reg = new MetricsRegistry();
    reg.gauge("etcd_server_has_leader", "Whether or not a leader exists.").set(1);
    const base = await start(
      () => ({ ok: true }),
      () => ({ ok: true }),
      reg,
    );
    const r = await fetch(`${base}/metrics`);
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await r.text()).toBe(
      "# HELP etcd_server_has_leader Whether or not a leader exists.\n" +
        "# TYPE etcd_server_has_leader gauge\n" +
        "etcd_server_has_leader 1\n",
    );
  });

  it("a port in use fails with the URL and the reason, and leaves nothing listening", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const addr = blocker.address();
    const port = addr !== null && typeof addr === "object" ? addr.port : 0;
    try {
      const err = await startHttpEndpoints({
        urls: [
          { url: "http://127.0.0.1:0", host: "127.0.0.1", port: 0 },
          { url: `http://127.0.0.1:${port}`, host: "127.0.0.1", port },
        ],
        registry: new MetricsRegistry(),
        health: () => ({ ok: true }),
        ready: () => ({ ok: true }),
        raft: () => ({}),
        version: () => ({}),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ListenError);
      expect((err as Error).message).toBe(
        `cannot listen on http://127.0.0.1:${port}: the port is in use by another process`,
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe("the Prometheus registry", () => {
  it("renders counters, labelled gauges, scrape-time values and histograms", () => {
    const reg = new MetricsRegistry();
    const c = reg.counter(
      "etcd_server_proposals_failed_total",
      "The total number of failed proposals seen.",
    );
    c.inc();
    c.inc(2);
    reg.gauge("tug_raft_term", "term", () => 7);
    reg.gauge("tug_raft_role", 'role "now"\nper member', () => [
      [{ role: "leader" }, 1],
      [{ role: 'fo"l\\' }, 0],
    ]);
    const h = reg.histogram("etcd_disk_wal_fsync_duration_seconds", "fsync", [0.001, 0.002]);
    h.observe(0.0005);
    h.observe(0.0015);
    h.observe(5);
    expect(reg.render()).toBe(
      [
        "# HELP etcd_disk_wal_fsync_duration_seconds fsync",
        "# TYPE etcd_disk_wal_fsync_duration_seconds histogram",
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 1',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 2',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 3',
        "etcd_disk_wal_fsync_duration_seconds_sum 5.002",
        "etcd_disk_wal_fsync_duration_seconds_count 3",
        "# HELP etcd_server_proposals_failed_total The total number of failed proposals seen.",
        "# TYPE etcd_server_proposals_failed_total counter",
        "etcd_server_proposals_failed_total 3",
        '# HELP tug_raft_role role "now"\\nper member',
        "# TYPE tug_raft_role gauge",
        'tug_raft_role{role="leader"} 1',
        'tug_raft_role{role="fo\\"l\\\\"} 0',
        "# HELP tug_raft_term term",
        "# TYPE tug_raft_term gauge",
        "tug_raft_term 7",
        "",
      ].join("\n"),
    );
  });

  it("histogram series per label set; exponential buckets as Prometheus makes them", () => {
    const reg = new MetricsRegistry();
    const h = reg.histogram("rtt", "rtt", exponentialBuckets(0.0001, 2, 3));
    h.observe(0.00015, { To: "a" });
    h.observe(0.1, { To: "b" });
    const text = reg.render();
    expect(text).toContain('rtt_bucket{To="a",le="0.0002"} 1');
    expect(text).toContain('rtt_bucket{To="b",le="0.0004"} 0');
    expect(text).toContain('rtt_count{To="b"} 1');
    expect(exponentialBuckets(0.001, 2, 4)).toEqual([0.001, 0.002, 0.004, 0.008]);
  });

  it("refuses bad names, duplicates and shrinking counters", () => {
    const reg = new MetricsRegistry();
    reg.counter("a_total", "a");
    expect(() => reg.counter("a_total", "a")).toThrow("metric a_total is registered twice");
    expect(() => reg.gauge("bad-name", "x")).toThrow('metric name "bad-name" is not valid');
    expect(() => reg.counter("b_total", "b").inc(-1)).toThrow("cannot decrease");
  });
});

describe("the JSON logger", () => {
  it("writes one object per line with ts, level, component, msg and fields; filters by level", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      write: (l) => lines.push(l),
      now: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    });
    const raft = log.child("raft");
    raft.debug("dropped");
    raft.info("became leader", {
      term: 2,
      big: 10n,
      err: Object.assign(new Error("boom"), { code: "EIO" }),
    });
    log.warn("no fields");
    expect(lines).toEqual([
      '{"ts":"2026-01-02T03:04:05.678Z","level":"info","component":"raft","msg":"became leader","fields":{"term":2,"big":"10","err":{"message":"boom","code":"EIO"}}}\n',
      '{"ts":"2026-01-02T03:04:05.678Z","level":"warn","component":"tug-store","msg":"no fields"}\n',
    ]);
  });
});
