// tug-store's metrics/health HTTP routes on a real socket (port 0): etcd's JSON bodies, /raft,
// /version. The server, the registry's text format and the logger are @tug/daemon's, tested
// there.

import { MetricsRegistry } from "@tug/daemon";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Check,
  type HttpEndpoints,
  startHttpEndpoints,
} from "../../src/process/http-endpoints.js";

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
});
