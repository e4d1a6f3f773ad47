// tug-apiserver's Prometheus metrics, named as kube-apiserver names them where it has one:
// apiserver_request_total{verb,resource,code}, apiserver_request_duration_seconds (histogram),
// apiserver_registered_watchers{resource}, apiserver_watch_events_total{resource,type},
// apiserver_terminated_watchers_total{resource} (watches closed for not keeping up),
// apiserver_dropped_requests_total{request_kind} and apiserver_current_inflight_requests
// {request_kind} (load shedding, request_kind "readOnly" or "mutating"),
// etcd_request_errors_total. Rendered by @tug/daemon's registry in the text format 0.0.4.

import { type Counter, type Histogram, MetricsRegistry } from "@tug/daemon";
import type { CallRecord } from "../server/grpc-service.js";
import type { RequestKind } from "../server/max-in-flight.js";

const REQUEST_KINDS: readonly RequestKind[] = ["readOnly", "mutating"];

/** kube-apiserver's request latency buckets (seconds). */
const LATENCY_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45,
  60,
];

export class ApiServerMetrics {
  private readonly registry = new MetricsRegistry();
  private readonly requests: Counter;
  private readonly latency: Histogram;
  private readonly storeErrors: Counter;
  private readonly watchEvents: Counter;
  private readonly dropped: Counter;
  private readonly terminatedWatchers: Counter;

  constructor(
    /** Open watches per resource, read at scrape time. */
    watchers: () => ReadonlyMap<string, number>,
    /** Requests being served now, per kind, read at scrape time. */
    inFlight?: (kind: RequestKind) => number,
  ) {
    const r = this.registry;
    this.requests = r.counter(
      "apiserver_request_total",
      "Requests by verb, resource and HTTP-equivalent code.",
      true,
    );
    this.latency = r.histogram(
      "apiserver_request_duration_seconds",
      "Latency of non-watch requests.",
      LATENCY_BUCKETS,
      true,
    );
    r.gauge("apiserver_registered_watchers", "Open client watches by resource.", () =>
      [...watchers()].map(([resource, n]) => [{ resource }, n] as const),
    );
    this.watchEvents = r.counter(
      "apiserver_watch_events_total",
      "Events sent to watchers, by resource and type.",
      true,
    );
    this.terminatedWatchers = r.counter(
      "apiserver_terminated_watchers_total",
      "Watches closed because the client did not read their events fast enough, by resource.",
      true,
    );
    this.dropped = r.counter(
      "apiserver_dropped_requests_total",
      "Requests refused with 429 by the in-flight limits, by kind.",
      true,
    );
    for (const kind of REQUEST_KINDS) this.dropped.inc(0, { request_kind: kind });
    if (inFlight !== undefined) {
      r.gauge(
        "apiserver_current_inflight_requests",
        "Requests being served now, by kind (watches not counted).",
        () => REQUEST_KINDS.map((kind) => [{ request_kind: kind }, inFlight(kind)] as const),
      );
    }
    this.storeErrors = r.counter(
      "etcd_request_errors_total",
      "Requests that failed because the store was unavailable or slow.",
    );
  }

  /** Counts one finished call. */
  record(call: CallRecord): void {
    if (call.dropped !== undefined) this.dropped.inc(1, { request_kind: call.dropped });
    const verb = call.verb.toUpperCase();
    this.requests.inc(1, { verb, resource: call.resource, code: String(call.code) });
    if (call.error?.reason === "ServiceUnavailable" || call.error?.reason === "Timeout") {
      this.storeErrors.inc();
    }
    if (call.terminated) this.terminatedWatchers.inc(1, { resource: call.resource });
    if (call.verb === "watch") return;
    this.latency.observe(call.durationMs / 1000, { verb, resource: call.resource });
  }

  /** Counts one event sent to a watcher. */
  watchEvent(resource: string, type: string): void {
    this.watchEvents.inc(1, { resource, type });
  }

  /** The exposition text. */
  render(): string {
    return this.registry.render();
  }
}
