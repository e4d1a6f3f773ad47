// The HTTP side of tug-store, on --listen-metrics-urls (default :2381), served by @tug/daemon:
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

import {
  type HttpEndpoints,
  jsonAnswer,
  type MetricsRegistry,
  metricsAnswer,
  startHttpEndpoints as startDaemonHttpEndpoints,
} from "@tug/daemon";
import type { ListenUrl } from "./config.js";

export { type HttpEndpoints, ListenError } from "@tug/daemon";

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

/** Listens on every URL; on a failure closes what it opened and throws ListenError. */
export function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  return startDaemonHttpEndpoints({
    listen: options.urls,
    routes: [
      {
        paths: ["/healthz", "/health"],
        answer: () => {
          const c = options.health();
          return c.ok
            ? jsonAnswer(200, { health: "true" })
            : jsonAnswer(503, { health: "false", reason: c.reason ?? "unhealthy" });
        },
      },
      {
        paths: ["/readyz"],
        answer: () => {
          const c = options.ready();
          return c.ok
            ? jsonAnswer(200, { ready: "true" })
            : jsonAnswer(503, { ready: "false", reason: c.reason ?? "not ready" });
        },
      },
      { paths: ["/metrics"], answer: () => metricsAnswer(options.registry.render()) },
      { paths: ["/raft"], answer: () => jsonAnswer(200, options.raft()) },
      { paths: ["/version"], answer: () => jsonAnswer(200, options.version()) },
    ],
  });
}
