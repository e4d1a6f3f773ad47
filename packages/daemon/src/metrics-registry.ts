// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
// The daemons need a few dozen metrics and full control over their names, types and buckets (to
// match etcd's and Kubernetes'); a registry of its own is shorter than the configuration
// prom-client would need, and adds no dependency.
//
// Gauges may be computed at scrape time (`collect`), so that values a component already holds
// (a Raft term, a queue's length) are read, not copied on every change. Labels are rendered in
// the order the caller gives them; a metric's callers give the same names in the same order
// (a series is identified by its rendered labels, which keeps inc() free of sorting).

export type Labels = Readonly<Record<string, string>>;

type MetricType = "counter" | "gauge" | "histogram";

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  render(out: string[]): void;
}

function labelKey(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  let key = "";
  // for-in, not Object.entries: this runs on every inc/observe, and needs no array per call.
  for (const k in labels) {
    key += `${key === "" ? "" : ","}${k}="${escapeLabelValue(labels[k] as string)}"`;
  }
  return key;
}

/** A character the text format escapes in label values. */
const NEEDS_ESCAPE = /[\\"\n]/;

/** A label value as the text format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** `{a="x",b="y"}` in the order given, or "" for no labels: for text rendered by hand. */
export function labelText(labels: Labels): string {
  const key = labelKey(labels);
  return key === "" ? "" : `{${key}}`;
}

function escapeHelp(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

function sample(name: string, key: string, value: number): string {
  return `${name}${key === "" ? "" : `{${key}}`} ${formatValue(value)}`;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Counter implements Metric {
  readonly type = "counter";
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** Every sample has labels: render nothing, not an unlabelled 0, before the first inc. */
    private readonly labelled = false,
  ) {}

  inc(by = 1, labels?: Labels): void {
    if (by < 0) throw new Error(`counter ${this.name}: cannot decrease by ${by}`);
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(out: string[]): void {
    if (this.values.size === 0 && !this.labelled) out.push(sample(this.name, "", 0));
    for (const [k, v] of this.values) out.push(sample(this.name, k, v));
  }
}

export type GaugeCollect = () => number | ReadonlyArray<readonly [Labels, number]>;

export class Gauge implements Metric {
  readonly type: MetricType;
  private readonly values = new Map<string, number>();

  /** `type` lets a scrape-time value be declared a counter (it must only grow). */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: GaugeCollect,
    type: "gauge" | "counter" = "gauge",
  ) {
    this.type = type;
  }

  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }

  inc(by = 1, labels?: Labels): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(out: string[]): void {
    if (this.collect !== undefined) {
      const c = this.collect();
      if (typeof c === "number") out.push(sample(this.name, "", c));
      else for (const [labels, v] of c) out.push(sample(this.name, labelKey(labels), v));
      return;
    }
    if (this.values.size === 0) out.push(sample(this.name, "", 0));
    for (const [k, v] of this.values) out.push(sample(this.name, k, v));
  }
}

interface HistogramSeries {
  /** Per bucket, the observations in it and in no lower one (not cumulative). */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  readonly type = "histogram";
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending; +Inf is implied. */
    readonly buckets: readonly number[],
    /** Every series has labels: render nothing, not an empty unlabelled series, before the first observe. */
    private readonly labelled = false,
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if ((buckets[i] as number) <= (buckets[i - 1] as number)) {
        throw new Error(`histogram ${name}: buckets must ascend`);
      }
    }
  }

  observe(value: number, labels?: Labels): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    // Only the first bucket that holds the value is counted; render() adds them up into the
    // cumulative counts the format wants (one increment per observe instead of one per bucket).
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) {
        s.counts[i] = (s.counts[i] as number) + 1;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  /** Observations so far (for tests and /raft). */
  count(labels?: Labels): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }

  render(out: string[]): void {
    const all: [string, HistogramSeries][] =
      this.series.size === 0 && !this.labelled
        ? [["", { counts: this.buckets.map(() => 0), sum: 0, count: 0 }]]
        : [...this.series];
    for (const [k, s] of all) {
      const prefix = k === "" ? "" : `${k},`;
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        out.push(`${this.name}_bucket{${prefix}le="${formatValue(le)}"} ${cumulative}`);
      });
      out.push(`${this.name}_bucket{${prefix}le="+Inf"} ${s.count}`);
      out.push(sample(`${this.name}_sum`, k, s.sum));
      out.push(sample(`${this.name}_count`, k, s.count));
    }
  }
}

/** A histogram kept elsewhere, read at scrape time. */
export interface HistogramState {
  /** Upper bounds, ascending (+Inf is `count`). */
  readonly bounds: readonly number[];
  /** Observations <= each bound. */
  readonly cumulativeCounts: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
}

class HistogramFunc implements Metric {
  readonly type = "histogram";

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => HistogramState,
  ) {}

  render(out: string[]): void {
    const h = this.collect();
    h.bounds.forEach((le, i) => {
      out.push(`${this.name}_bucket{le="${formatValue(le)}"} ${h.cumulativeCounts[i] ?? 0}`);
    });
    out.push(`${this.name}_bucket{le="+Inf"} ${h.count}`);
    out.push(sample(`${this.name}_sum`, "", h.sumSeconds));
    out.push(sample(`${this.name}_count`, "", h.count));
  }
}

/** `count` buckets: start, start·factor, start·factor², … (Prometheus' ExponentialBuckets). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(m: M): M {
    if (!METRIC_NAME.test(m.name))
      throw new Error(`metric name ${JSON.stringify(m.name)} is not valid`);
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }

  /** `labelled`: every sample has labels (no unlabelled 0 before the first inc). */
  counter(name: string, help: string, labelled = false): Counter {
    return this.add(new Counter(name, help, labelled));
  }

  gauge(name: string, help: string, collect?: GaugeCollect): Gauge {
    return this.add(new Gauge(name, help, collect));
  }

  /** A counter whose value is read at scrape time (it must only grow). */
  counterFunc(name: string, help: string, collect: GaugeCollect): Gauge {
    return this.add(new Gauge(name, help, collect, "counter"));
  }

  /** `labelled`: every series has labels (no empty unlabelled series before the first observe). */
  histogram(name: string, help: string, buckets: readonly number[], labelled = false): Histogram {
    return this.add(new Histogram(name, help, buckets, labelled));
  }

  /** A histogram whose state is read at scrape time. */
  histogramFunc(name: string, help: string, collect: () => HistogramState): void {
    this.add(new HistogramFunc(name, help, collect));
  }

  /** The text exposition format, metrics in name order. */
  render(): string {
    const out: string[] = [];
    for (const m of [...this.metrics.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      m.render(out);
    }
    return `${out.join("\n")}\n`;
  }
}

/** The Content-Type of render()'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
