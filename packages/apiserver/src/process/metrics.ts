// tug-apiserver's Prometheus metrics, named as kube-apiserver names them where it has one:
// apiserver_request_total{verb,resource,code}, apiserver_request_duration_seconds (histogram),
// apiserver_registered_watchers{resource}, apiserver_watch_events_total{resource,type},
// apiserver_dropped_requests_total{request_kind} and apiserver_current_inflight_requests
// {request_kind} (load shedding, request_kind "readOnly" or "mutating"), etcd_request_errors_total. Text exposition format 0.0.4.
// https://prometheus.io/docs/instrumenting/exposition_formats/

import type { CallRecord } from "../server/grpc-service.js";
import type { RequestKind } from "../server/max-in-flight.js";

const REQUEST_KINDS: readonly RequestKind[] = ["readOnly", "mutating"];

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** kube-apiserver's request latency buckets (seconds). */
const LATENCY_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45,
  60,
];

function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) =>
      `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class ApiServerMetrics {
  private readonly requests = new Map<string, { labels: Record<string, string>; n: number }>();
  private readonly latency = new Map<string, { labels: Record<string, string>; h: Histogram }>();
  private storeErrors = 0;
  private readonly watchEvents = new Map<string, { labels: Record<string, string>; n: number }>();
  private readonly dropped: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };

  constructor(
    /** Open watches per resource, read at scrape time. */
    private readonly watchers: () => ReadonlyMap<string, number>,
    /** Requests being served now, per kind, read at scrape time. */
    private readonly inFlight?: (kind: RequestKind) => number,
  ) {}

  /** Counts one finished call. */
  record(call: CallRecord): void {
    if (call.dropped !== undefined) this.dropped[call.dropped]++;
    const labels = {
      verb: call.verb.toUpperCase(),
      resource: call.resource,
      code: String(call.code),
    };
    const key = labelText(labels);
    const r = this.requests.get(key) ?? { labels, n: 0 };
    r.n++;
    this.requests.set(key, r);
    if (call.error?.reason === "ServiceUnavailable" || call.error?.reason === "Timeout") {
      this.storeErrors++;
    }
    if (call.verb === "watch") return;
    const lLabels = { verb: call.verb.toUpperCase(), resource: call.resource };
    const lKey = labelText(lLabels);
    const l = this.latency.get(lKey) ?? {
      labels: lLabels,
      h: { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 },
    };
    const seconds = call.durationMs / 1000;
    LATENCY_BUCKETS.forEach((b, i) => {
      if (seconds <= b) l.h.counts[i] = (l.h.counts[i] ?? 0) + 1;
    });
    l.h.sum += seconds;
    l.h.count++;
    this.latency.set(lKey, l);
  }

  /** Counts one event sent to a watcher. */
  watchEvent(resource: string, type: string): void {
    const labels = { resource, type };
    const key = labelText(labels);
    const e = this.watchEvents.get(key) ?? { labels, n: 0 };
    e.n++;
    this.watchEvents.set(key, e);
  }

  /** The exposition text. */
  render(): string {
    const lines: string[] = [];
    lines.push(
      "# HELP apiserver_request_total Requests by verb, resource and HTTP-equivalent code.",
      "# TYPE apiserver_request_total counter",
    );
    for (const r of this.requests.values()) {
      lines.push(`apiserver_request_total${labelText(r.labels)} ${r.n}`);
    }
    lines.push(
      "# HELP apiserver_request_duration_seconds Latency of non-watch requests.",
      "# TYPE apiserver_request_duration_seconds histogram",
    );
    for (const { labels, h } of this.latency.values()) {
      LATENCY_BUCKETS.forEach((b, i) => {
        lines.push(
          `apiserver_request_duration_seconds_bucket${labelText({ ...labels, le: String(b) })} ${h.counts[i]}`,
        );
      });
      lines.push(
        `apiserver_request_duration_seconds_bucket${labelText({ ...labels, le: "+Inf" })} ${h.count}`,
        `apiserver_request_duration_seconds_sum${labelText(labels)} ${h.sum}`,
        `apiserver_request_duration_seconds_count${labelText(labels)} ${h.count}`,
      );
    }
    lines.push(
      "# HELP apiserver_registered_watchers Open client watches by resource.",
      "# TYPE apiserver_registered_watchers gauge",
    );
    for (const [resource, n] of this.watchers()) {
      lines.push(`apiserver_registered_watchers${labelText({ resource })} ${n}`);
    }
    lines.push(
      "# HELP apiserver_watch_events_total Events sent to watchers, by resource and type.",
      "# TYPE apiserver_watch_events_total counter",
    );
    for (const e of this.watchEvents.values()) {
      lines.push(`apiserver_watch_events_total${labelText(e.labels)} ${e.n}`);
    }
    lines.push(
      "# HELP apiserver_dropped_requests_total Requests refused with 429 by the in-flight limits, by kind.",
      "# TYPE apiserver_dropped_requests_total counter",
    );
    for (const kind of REQUEST_KINDS) {
      lines.push(
        `apiserver_dropped_requests_total${labelText({ request_kind: kind })} ${this.dropped[kind]}`,
      );
    }
    if (this.inFlight !== undefined) {
      lines.push(
        "# HELP apiserver_current_inflight_requests Requests being served now, by kind (watches not counted).",
        "# TYPE apiserver_current_inflight_requests gauge",
      );
      for (const kind of REQUEST_KINDS) {
        lines.push(
          `apiserver_current_inflight_requests${labelText({ request_kind: kind })} ${this.inFlight(kind)}`,
        );
      }
    }
    lines.push(
      "# HELP etcd_request_errors_total Requests that failed because the store was unavailable or slow.",
      "# TYPE etcd_request_errors_total counter",
      `etcd_request_errors_total ${this.storeErrors}`,
    );
    return `${lines.join("\n")}\n`;
  }
}
