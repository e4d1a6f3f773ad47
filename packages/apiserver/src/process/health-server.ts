// The HTTP side of tug-apiserver: /healthz (the process runs), /readyz (it can serve: the
// store answers and the watch caches in use are synced), /metrics (Prometheus text). Probes get
// "ok" with 200, or the failing check with 503, as kube-apiserver's /readyz does.

import { createServer, type Server } from "node:http";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics.js";

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** Resolves to undefined when ready, else the reason it is not. */
  readonly ready: () => Promise<string | undefined>;
  readonly metrics: () => string;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    if (path === "/readyz") {
      options.ready().then(
        (why) => {
          if (why === undefined) res.writeHead(200, { "content-type": "text/plain" }).end("ok");
          else res.writeHead(503, { "content-type": "text/plain" }).end(`not ready: ${why}\n`);
        },
        (e: unknown) =>
          res
            .writeHead(503, { "content-type": "text/plain" })
            .end(`not ready: ${e instanceof Error ? e.message : String(e)}\n`),
      );
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(options.metrics());
      return;
    }
    res
      .writeHead(404, { "content-type": "text/plain" })
      .end("not found: try /healthz, /readyz or /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
