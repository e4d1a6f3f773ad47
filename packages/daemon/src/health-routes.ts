// The probe and scrape routes of a Kubernetes-style daemon, answered as kube-apiserver answers
// them (https://kubernetes.io/docs/reference/using-api/health-checks/): /healthz and /livez
// "ok" while the process runs; /readyz "ok" (200) when ready, else "not ready: <why>" (503);
// /metrics the Prometheus text. tug-store answers in etcd's JSON instead and builds its own
// routes from ./http-endpoints.ts.

import {
  type HttpAnswer,
  type HttpEndpoints,
  type HttpRoute,
  startHttpEndpoints,
  textAnswer,
} from "./http-endpoints.js";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics-registry.js";

export interface HealthRoutesOptions {
  /** undefined when ready, else why not; a rejection or throw is not ready, with its message. */
  readonly ready: () => string | undefined | Promise<string | undefined>;
  /** The exposition text, e.g. MetricsRegistry.render(). */
  readonly metrics: () => string;
}

/** The /metrics answer for an exposition text. */
export function metricsAnswer(text: string): HttpAnswer {
  return { status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: text };
}

function readiness(why: string | undefined): HttpAnswer {
  return why === undefined ? textAnswer(200, "ok") : textAnswer(503, `not ready: ${why}\n`);
}

function notReady(e: unknown): HttpAnswer {
  return readiness(e instanceof Error ? e.message : String(e));
}

export function healthRoutes(options: HealthRoutesOptions): HttpRoute[] {
  return [
    { paths: ["/healthz", "/livez"], answer: () => textAnswer(200, "ok") },
    {
      paths: ["/readyz"],
      answer: () => {
        try {
          const why = options.ready();
          return why instanceof Promise ? why.then(readiness, notReady) : readiness(why);
        } catch (e) {
          return notReady(e);
        }
      },
    },
    { paths: ["/metrics"], answer: () => metricsAnswer(options.metrics()) },
  ];
}

export interface HealthServerOptions extends HealthRoutesOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
}

/** healthRoutes served on host:port. */
export function startHealthServer(options: HealthServerOptions): Promise<HttpEndpoints> {
  return startHttpEndpoints({
    listen: [{ host: options.host, port: options.port }],
    routes: healthRoutes(options),
  });
}
