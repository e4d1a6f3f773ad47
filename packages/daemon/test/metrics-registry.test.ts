// The Prometheus text exposition format 0.0.4 of the registry.

import { describe, expect, it } from "vitest";
import { exponentialBuckets, labelText, MetricsRegistry } from "../src/index.js";

describe("MetricsRegistry", () => {
  it("renders counters, labelled gauges, scrape-time values and histograms in name order", () => {
    const reg = new MetricsRegistry();
    const c = reg.counter(
      "etcd_server_proposals_failed_total",
      "The total number of failed proposals seen.",
    );
    c.inc();
    c.inc(2);
    reg.gauge("tug_raft_term", "term", () => 7);
    reg.gauge("tug_raft_role", 'role "now"\nper member', () => [
      [{ role: "leader" }, 1],
      [{ role: 'fo"l\\' }, 0],
    ]);
    const h = reg.histogram("etcd_disk_wal_fsync_duration_seconds", "fsync", [0.001, 0.002]);
    h.observe(0.0005);
    h.observe(0.0015);
    h.observe(5);
    expect(reg.render()).toBe(
      [
        "# HELP etcd_disk_wal_fsync_duration_seconds fsync",
        "# TYPE etcd_disk_wal_fsync_duration_seconds histogram",
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 1',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 2',
        'etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 3',
        "etcd_disk_wal_fsync_duration_seconds_sum 5.002",
        "etcd_disk_wal_fsync_duration_seconds_count 3",
        "# HELP etcd_server_proposals_failed_total The total number of failed proposals seen.",
        "# TYPE etcd_server_proposals_failed_total counter",
        "etcd_server_proposals_failed_total 3",
        '# HELP tug_raft_role role "now"\\nper member',
        "# TYPE tug_raft_role gauge",
        'tug_raft_role{role="leader"} 1',
        'tug_raft_role{role="fo\\"l\\\\"} 0',
        "# HELP tug_raft_term term",
        "# TYPE tug_raft_term gauge",
        "tug_raft_term 7",
        "",
      ].join("\n"),
    );
  });

  it("keeps a series per label set, labels in the order given", () => {
    const reg = new MetricsRegistry();
    const h = reg.histogram("rtt", "rtt", exponentialBuckets(0.0001, 2, 3));
    h.observe(0.00015, { To: "a" });
    h.observe(0.1, { To: "b" });
    const requests = reg.counter("apiserver_request_total", "requests", true);
    const sizes = reg.histogram("size_bytes", "sizes", [1], true);
    expect(reg.render()).not.toMatch(/^(apiserver_request_total|size_bytes_bucket)[ {]/m);
    sizes.observe(2, { kind: "x" });
    requests.inc(1, { verb: "CREATE", resource: "pods", code: "201" });
    requests.inc(1, { verb: "CREATE", resource: "pods", code: "201" });
    const text = reg.render();
    expect(text).toContain('rtt_bucket{To="a",le="0.0002"} 1');
    expect(text).toContain('rtt_bucket{To="b",le="0.0004"} 0');
    expect(text).toContain('rtt_count{To="b"} 1');
    expect(text).toContain('size_bytes_bucket{kind="x",le="+Inf"} 1');
    expect(text).toContain('apiserver_request_total{verb="CREATE",resource="pods",code="201"} 2');
    expect(exponentialBuckets(0.001, 2, 4)).toEqual([0.001, 0.002, 0.004, 0.008]);
    expect(labelText({ a: 'x"', b: "y" })).toBe('{a="x\\"",b="y"}');
    expect(labelText({})).toBe("");
  });

  it("refuses bad names, duplicates and shrinking counters", () => {
    const reg = new MetricsRegistry();
    reg.counter("a_total", "a");
    expect(() => reg.counter("a_total", "a")).toThrow("metric a_total is registered twice");
    expect(() => reg.gauge("bad-name", "x")).toThrow('metric name "bad-name" is not valid');
    expect(() => reg.counter("b_total", "b").inc(-1)).toThrow("cannot decrease");
  });
});
