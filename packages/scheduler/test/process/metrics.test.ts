// tug-scheduler's /metrics text: parsed whole (every family has HELP and TYPE before its samples,
// every value is a number, label values come back unescaped as given), with kube-scheduler's
// names, types and labels, read from the current term whenever it renders.

import type { ReflectorCounts } from "@tug/client";
import { FakeClock } from "@tug/client";
import { describe, expect, it } from "vitest";
import { type SchedulerMetricsSource, schedulerMetrics } from "../../src/process/metrics.js";
import { Scheduler } from "../../src/scheduler.js";
import { drain, FakeBinder, FakeRecorder } from "../support/fakes.js";
import { makeNode, makePod } from "../support/fixtures.js";

interface Family {
  help: string;
  type: string;
  /** Rendered sample -> value, labels as `name=value` joined by "," (values unescaped). */
  samples: Map<string, number>;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;

function unescapeLabelValue(v: string): string {
  return v.replace(/\\([\\"n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string, line: string): string {
  const out: string[] = [];
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`labels not in the text format: ${line}`);
    out.push(`${m[1]}=${unescapeLabelValue(m[2] as string)}`);
  }
  return out.join(",");
}

/** The text format 0.0.4, strictly: throws on any line it does not expect. */
function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith("\n")).toBe(true);
  const families = new Map<string, Family>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const help = new RegExp(`^# HELP (${NAME}) (.+)$`).exec(line);
    if (help !== null) {
      const name = help[1] as string;
      expect(families.has(name), `${name} declared twice`).toBe(false);
      families.set(name, { help: help[2] as string, type: "", samples: new Map() });
      current = name;
      continue;
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge)$`).exec(line);
    if (type !== null) {
      expect(type[1], `TYPE right after its HELP: ${line}`).toBe(current);
      const family = families.get(current as string) as Family;
      expect(family.type, `${line} repeats a TYPE`).toBe("");
      family.type = type[2] as string;
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (sample === null)
      throw new Error(`not a HELP, TYPE or sample line: ${JSON.stringify(line)}`);
    const name = sample[1] as string;
    expect(name, `sample of ${name} under the HELP and TYPE of ${current}`).toBe(current);
    const family = families.get(name) as Family;
    expect(family.type, `${name} has a TYPE before its samples`).not.toBe("");
    const value = Number(sample[3]);
    expect(Number.isFinite(value), `value of ${line}`).toBe(true);
    const labels = sample[2] === undefined ? "" : parseLabels(sample[2], line);
    expect(family.samples.has(labels), `${line} repeats a series`).toBe(false);
    family.samples.set(labels, value);
  }
  for (const [name, f] of families) expect(f.type, `${name} has a TYPE`).not.toBe("");
  return families;
}

const TYPES: Record<string, string> = {
  scheduler_schedule_attempts_total: "counter",
  scheduler_pending_pods: "gauge",
  scheduler_cache_size: "gauge",
  scheduler_events_queued: "gauge",
  scheduler_events_dropped_total: "counter",
  leader_election_master_status: "gauge",
  scheduler_informer_lists_total: "counter",
  scheduler_informer_watches_total: "counter",
  scheduler_informer_watch_events_total: "counter",
};

function samplesOf(families: Map<string, Family>): Record<string, Record<string, number>> {
  return Object.fromEntries(
    [...families].map(([name, f]) => [name, Object.fromEntries(f.samples)] as const),
  );
}

function informer(counts: ReflectorCounts): { reflectorCounts(): ReflectorCounts } {
  return { reflectorCounts: () => counts };
}

describe("schedulerMetrics", () => {
  it("exposes kube-scheduler's families with HELP, TYPE, numbers and escaped labels", async () => {
    const binder = new FakeBinder();
    const scheduler = new Scheduler({
      binder,
      recorder: new FakeRecorder(),
      clock: new FakeClock(),
      random: () => 0.5,
    });
    binder.scheduler = scheduler;
    scheduler.onNodeAdd(makeNode("n1", { cpu: "2", memory: "4Gi" }));
    scheduler.onPodAdd(makePod("fits", { cpu: "1" }));
    scheduler.onPodAdd(makePod("huge", { cpu: "64" }));
    await drain(scheduler);

    const source: {
      -readonly [K in keyof SchedulerMetricsSource]: SchedulerMetricsSource[K];
    } = { scheduler: undefined, leading: false, events: undefined, informers: new Map() };
    const lease = 'kube-"sched"\\\nuler';
    const metrics = schedulerMetrics(source, lease);

    // No term yet: every family declared, only the leader status has a sample.
    const standby = parseExposition(metrics.render());
    expect(Object.fromEntries([...standby].map(([n, f]) => [n, f.type]))).toEqual(TYPES);
    expect(samplesOf(standby)).toEqual({
      ...Object.fromEntries(Object.keys(TYPES).map((n) => [n, {}])),
      leader_election_master_status: { [`name=${lease}`]: 0 },
    });

    source.scheduler = scheduler;
    source.leading = true;
    source.events = { queued: 2, dropped: 5 };
    source.informers = new Map([
      ["pods", informer({ lists: 1, watches: 2, events: 7 })],
      ['no"des', informer({ lists: 3, watches: 1, events: 0 })],
    ]);
    const leading = parseExposition(metrics.render());
    expect(leading.get("scheduler_pending_pods")?.help).toBe("Pending pods by sub-queue.");
    expect(samplesOf(leading)).toEqual({
      scheduler_schedule_attempts_total: {
        "result=scheduled": 1,
        "result=unschedulable": 1,
        "result=error": 0,
      },
      scheduler_pending_pods: {
        "queue=active": 0,
        "queue=backoff": 0,
        "queue=unschedulable": 1,
        "queue=gated": 0,
      },
      scheduler_cache_size: { "type=nodes": 1, "type=pods": 1, "type=assumed_pods": 0 },
      scheduler_events_queued: { "": 2 },
      scheduler_events_dropped_total: { "": 5 },
      leader_election_master_status: { [`name=${lease}`]: 1 },
      scheduler_informer_lists_total: { "resource=pods": 1, 'resource=no"des': 3 },
      scheduler_informer_watches_total: { "resource=pods": 2, 'resource=no"des': 1 },
      scheduler_informer_watch_events_total: { "resource=pods": 7, 'resource=no"des': 0 },
    });
    expect(metrics.render()).toContain(
      'leader_election_master_status{name="kube-\\"sched\\"\\\\\\nuler"} 1\n',
    );

    // A term without an event sink yet still reports its events as 0.
    source.events = undefined;
    source.leading = false;
    const noSink = samplesOf(parseExposition(metrics.render()));
    expect(noSink.scheduler_events_queued).toEqual({ "": 0 });
    expect(noSink.leader_election_master_status).toEqual({ [`name=${lease}`]: 0 });
  });
});
