// The HTTP side of tug-store, on --listen-metrics-urls (default :2381):
//
//   GET /healthz   200 {"health":"true"} when the process is up and the member has a leader,
//                  else 503 {"health":"false","reason":"..."} — etcd's /health body, which
//                  etcd 3.4 also serves as /health (so does tug-store)
//   GET /readyz    200 {"ready":"true"} once the member serves clients and has caught up with
//                  the commit index it knew at start; else 503 with a reason
//   GET /metrics   Prometheus text format
//   GET /raft      JSON: the Raft core's status (per-follower progress on the leader) and the
//                  recent role changes
//   GET /version   {"etcdserver":…,"etcdcluster":…,"tugstore":…}, like etcd's /version
//
// Every route answers GET and HEAD only; anything else is 405, unknown paths 404.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ListenUrl } from "./config.js";
import { type MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "./metrics-registry.js";

export interface Check {
  readonly ok: boolean;
  /** Why not, when !ok; shown to the caller. */
  readonly reason?: string;
}

export interface HttpEndpointsOptions {
  readonly urls: readonly ListenUrl[];
  readonly registry: MetricsRegistry;
  readonly health: () => Check;
  readonly ready: () => Check;
  /** The /raft document; serialized with JSON.stringify. */
  readonly raft: () => unknown;
  readonly version: () => Readonly<Record<string, string>>;
}

export interface HttpEndpoints {
  /** The URLs served, one per --listen-metrics-urls entry. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/** Why a listener could not start: the URL and the OS's reason. */
export class ListenError extends Error {
  constructor(
    readonly url: string,
    override readonly cause: Error,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === "EADDRINUSE"
        ? "the port is in use by another process"
        : code === "EADDRNOTAVAIL"
          ? "this host has no such address"
          : code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : cause.message;
    super(`cannot listen on ${url}: ${why}`);
    this.name = "ListenError";
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(head ? undefined : text);
}

function handler(options: HttpEndpointsOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    try {
      switch (path) {
        case "/healthz":
        case "/health": {
          const c = options.health();
          sendJson(
            res,
            c.ok ? 200 : 503,
            c.ok ? { health: "true" } : { health: "false", reason: c.reason ?? "unhealthy" },
            head,
          );
          return;
        }
        case "/readyz": {
          const c = options.ready();
          sendJson(
            res,
            c.ok ? 200 : 503,
            c.ok ? { ready: "true" } : { ready: "false", reason: c.reason ?? "not ready" },
            head,
          );
          return;
        }
        case "/metrics": {
          const text = options.registry.render();
          res.writeHead(200, {
            "Content-Type": PROMETHEUS_CONTENT_TYPE,
            "Content-Length": Buffer.byteLength(text),
          });
          res.end(head ? undefined : text);
          return;
        }
        case "/raft":
          sendJson(res, 200, options.raft(), head);
          return;
        case "/version":
          sendJson(res, 200, options.version(), head);
          return;
        default:
          res.writeHead(404, { "Content-Type": "text/plain" });
          res.end(
            head ? undefined : "not found; try /healthz, /readyz, /metrics, /raft or /version\n",
          );
      }
    } catch (err) {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(head ? undefined : `${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
}

/** Listens on every URL; on a failure closes what it opened and throws ListenError. */
export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const servers: Server[] = [];
  const urls: string[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  };
  try {
    for (const u of options.urls) {
      const server = createServer(handler(options));
      server.keepAliveTimeout = 5000;
      await new Promise<void>((resolve, reject) => {
        server.once("error", (e) => reject(new ListenError(u.url, e)));
        server.listen(u.port, u.host, () => resolve());
      });
      servers.push(server);
      const addr = server.address();
      const port = addr !== null && typeof addr === "object" ? addr.port : u.port;
      urls.push(`http://${u.host.includes(":") ? `[${u.host}]` : u.host}:${port}`);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { urls, close: closeAll };
}
