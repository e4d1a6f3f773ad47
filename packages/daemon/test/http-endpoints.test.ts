// The HTTP side on real sockets (port 0): the health routes as kube-apiserver answers them,
// custom routes, 404/405/500, HEAD, and a listen failure that leaves nothing open.

import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  type HttpEndpoints,
  jsonAnswer,
  ListenError,
  startHealthServer,
  startHttpEndpoints,
} from "../src/index.js";

const started: HttpEndpoints[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function health(ready: () => string | undefined | Promise<string | undefined>) {
  const s = await startHealthServer({
    host: "127.0.0.1",
    port: 0,
    ready,
    metrics: () => "up 1\n",
  });
  started.push(s);
  return `http://127.0.0.1:${s.port}`;
}

describe("startHealthServer", () => {
  it("/healthz and /livez ok; /readyz ok or 503 with the reason; /metrics the text", async () => {
    let why: string | undefined = "caches not synced";
    const base = await health(() => why);
    for (const path of ["/healthz", "/livez"]) {
      const r = await fetch(`${base}${path}`);
      expect([r.status, await r.text()]).toEqual([200, "ok"]);
    }
    let r = await fetch(`${base}/readyz`);
    expect([r.status, await r.text()]).toEqual([503, "not ready: caches not synced\n"]);
    why = undefined;
    r = await fetch(`${base}/readyz?verbose`);
    expect([r.status, await r.text()]).toEqual([200, "ok"]);
    r = await fetch(`${base}/metrics`);
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await r.text()).toBe("up 1\n");
  });

  it("a readiness check that rejects or throws is not ready, with its message", async () => {
    const rejecting = await health(() => Promise.reject(new Error("store: no leader")));
    let r = await fetch(`${rejecting}/readyz`);
    expect([r.status, await r.text()]).toEqual([503, "not ready: store: no leader\n"]);
    const throwing = await health(() => {
      throw new Error("boom");
    });
    r = await fetch(`${throwing}/readyz`);
    expect([r.status, await r.text()]).toEqual([503, "not ready: boom\n"]);
    const later = await health(async () => undefined);
    r = await fetch(`${later}/readyz`);
    expect(r.status).toBe(200);
  });

  it("unknown paths 404 naming the routes; other methods 405 with Allow", async () => {
    const base = await health(() => undefined);
    let r = await fetch(`${base}/nope`);
    expect([r.status, await r.text()]).toEqual([
      404,
      "not found: try /healthz, /readyz or /metrics\n",
    ]);
    r = await fetch(`${base}/metrics`, { method: "POST" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
    r = await fetch(`${base}/healthz`, { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-length")).toBe("2");
    expect(await r.text()).toBe("");
  });
});

describe("startHttpEndpoints", () => {
  it("serves custom routes on every address; a throwing route is 500", async () => {
    const s = await startHttpEndpoints({
      listen: [
        { host: "127.0.0.1", port: 0 },
        { host: "127.0.0.1", port: 0 },
      ],
      routes: [
        { paths: ["/version"], answer: () => jsonAnswer(200, { v: "1" }) },
        {
          paths: ["/raft"],
          answer: () => {
            throw new Error("no raft here");
          },
        },
      ],
    });
    started.push(s);
    expect(s.urls).toHaveLength(2);
    for (const u of s.urls) expect(await (await fetch(`${u}/version`)).json()).toEqual({ v: "1" });
    const r = await fetch(`${s.urls[1]}/raft`);
    expect([r.status, await r.text()]).toEqual([500, "no raft here\n"]);
  });

  it("a port in use fails with the URL and the reason, and leaves nothing listening", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = boundPort(blocker);
    const first = await freePort();
    try {
      const err = await startHttpEndpoints({
        listen: [
          { host: "127.0.0.1", port: first },
          { host: "127.0.0.1", port },
        ],
        routes: [],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ListenError);
      expect((err as Error).message).toBe(
        `cannot listen on http://127.0.0.1:${port}: the port is in use by another process`,
      );
      // The first address was bound, then closed again when the second failed.
      expect(await canListen(first)).toBe(true);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

function boundPort(s: Server): number {
  const addr = s.address();
  return addr !== null && typeof addr === "object" ? addr.port : 0;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = boundPort(s);
  await new Promise((r) => s.close(r));
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}
