// tug-scheduler's HTTP endpoints: /healthz (the process runs), /readyz (caches synced and, with
// leader election, leading or standing by), /metrics (Prometheus text format 0.0.4).

import { createServer, type Server } from "node:http";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** undefined when ready, else why not. */
  readonly notReadyReason: () => string | undefined;
  readonly metrics: () => string;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const text = (code: number, body: string): void => {
      res.writeHead(code, { "content-type": "text/plain" }).end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") text(405, "method not allowed\n");
    else if (path === "/healthz" || path === "/livez") text(200, "ok");
    else if (path === "/readyz") {
      const why = options.notReadyReason();
      if (why === undefined) text(200, "ok");
      else text(503, `not ready: ${why}\n`);
    } else if (path === "/metrics") {
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(options.metrics());
    } else text(404, "not found: try /healthz, /readyz or /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr !== null ? addr.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
