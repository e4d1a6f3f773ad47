// The HTTP side of tug-controller-manager: /healthz (the process runs), /readyz (this instance
// is a ready standby, or leads with synced caches), /metrics (Prometheus text).

import { createServer, type Server } from "node:http";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  /** undefined when ready, else why not. */
  readonly ready: () => string | undefined;
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
    if (req.method !== "GET" && req.method !== "HEAD") {
      text(405, "method not allowed\n");
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      text(200, "ok");
      return;
    }
    if (path === "/readyz") {
      const why = options.ready();
      text(why === undefined ? 200 : 503, why === undefined ? "ok" : `not ready: ${why}\n`);
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(options.metrics());
      return;
    }
    text(404, "not found: try /healthz, /readyz or /metrics\n");
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

/** Prometheus text of the controller manager's state. */
export function metricsText(stats: {
  leading: boolean;
  terms: number;
  reconciles: ReadonlyMap<string, number>;
  reconcileErrors: ReadonlyMap<string, number>;
}): string {
  const lines = [
    "# HELP leader_election_master_status 1 while this instance leads, else 0 (client-go's name).",
    "# TYPE leader_election_master_status gauge",
    `leader_election_master_status{name="kube-controller-manager"} ${stats.leading ? 1 : 0}`,
    "# HELP tug_controller_manager_leader_terms_total Leadership terms this process has started.",
    "# TYPE tug_controller_manager_leader_terms_total counter",
    `tug_controller_manager_leader_terms_total ${stats.terms}`,
    "# HELP tug_controller_reconciles_total Reconciles that succeeded, per controller.",
    "# TYPE tug_controller_reconciles_total counter",
  ];
  for (const [name, n] of stats.reconciles) {
    lines.push(`tug_controller_reconciles_total{controller="${name}"} ${n}`);
  }
  lines.push(
    "# HELP tug_controller_reconcile_errors_total Reconciles that failed and were retried, per controller.",
    "# TYPE tug_controller_reconcile_errors_total counter",
  );
  for (const [name, n] of stats.reconcileErrors) {
    lines.push(`tug_controller_reconcile_errors_total{controller="${name}"} ${n}`);
  }
  return `${lines.join("\n")}\n`;
}
