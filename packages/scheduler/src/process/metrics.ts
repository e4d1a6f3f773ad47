// tug-scheduler's Prometheus metrics, named as kube-scheduler names them:
// scheduler_schedule_attempts_total{result}, scheduler_pending_pods{queue},
// scheduler_cache_size{type}, leader_election_master_status{name}; and tug's own
// scheduler_events_queued / scheduler_events_dropped_total (see event-sink.ts), and
// scheduler_informer_lists_total / _watches_total / _watch_events_total{resource}: a watch
// started again (the API server closes a watch whose reader fell 100 events behind) or a relist
// shows there. Read from the current leadership term at scrape time and rendered by @tug/daemon's
// registry (text format 0.0.4). Before the first term, and between terms, only
// leader_election_master_status has a sample; the other families show HELP and TYPE alone.

import type { ReflectorCounts } from "@tug/client";
import { type GaugeCollect, type Labels, MetricsRegistry } from "@tug/daemon";
import type { Scheduler } from "../scheduler.js";
import type { EventSink } from "./event-sink.js";

/** What the metrics read at scrape time: the process's current term. */
export interface SchedulerMetricsSource {
  readonly scheduler: Scheduler | undefined;
  readonly leading: boolean;
  readonly events: Pick<EventSink, "queued" | "dropped"> | undefined;
  /** The term's informers by resource (e.g. "pods"). */
  readonly informers: ReadonlyMap<string, { reflectorCounts(): ReflectorCounts }>;
}

/** Samples of the current scheduler, or none while there is no term. */
function perScheduler(
  source: SchedulerMetricsSource,
  read: (s: Scheduler) => ReadonlyArray<readonly [Labels, number]>,
): GaugeCollect {
  return () => (source.scheduler === undefined ? [] : read(source.scheduler));
}

/** One sample per informer of the current term, labelled by its resource. */
function perInformer(
  source: SchedulerMetricsSource,
  pick: (c: ReflectorCounts) => number,
): GaugeCollect {
  return perScheduler(source, () =>
    [...source.informers].map(([resource, i]) => [{ resource }, pick(i.reflectorCounts())]),
  );
}

/** A registry whose metrics read `source` whenever it is rendered. */
export function schedulerMetrics(
  source: SchedulerMetricsSource,
  leaseName: string,
): MetricsRegistry {
  const registry = new MetricsRegistry();
  registry.counterFunc(
    "scheduler_schedule_attempts_total",
    "Scheduling attempts by result.",
    perScheduler(source, ({ stats }) => [
      [{ result: "scheduled" }, stats.scheduled],
      [{ result: "unschedulable" }, stats.unschedulable],
      [{ result: "error" }, stats.bindErrors],
    ]),
  );
  registry.gauge(
    "scheduler_pending_pods",
    "Pending pods by sub-queue.",
    perScheduler(source, (s) => {
      const q = s.queue.pending();
      return [
        [{ queue: "active" }, q.active],
        [{ queue: "backoff" }, q.backoff],
        [{ queue: "unschedulable" }, q.unschedulable],
        [{ queue: "gated" }, 0],
      ];
    }),
  );
  registry.gauge(
    "scheduler_cache_size",
    "Nodes, pods and assumed pods in the scheduler cache.",
    perScheduler(source, ({ snapshot }) => [
      [{ type: "nodes" }, snapshot.numNodes()],
      [{ type: "pods" }, snapshot.numPods()],
      [{ type: "assumed_pods" }, snapshot.numAssumedPods()],
    ]),
  );
  registry.gauge(
    "scheduler_events_queued",
    "Event writes waiting for a turn.",
    perScheduler(source, () => [[{}, source.events?.queued ?? 0]]),
  );
  registry.counterFunc(
    "scheduler_events_dropped_total",
    "Events dropped because the event queue was full.",
    perScheduler(source, () => [[{}, source.events?.dropped ?? 0]]),
  );
  registry.gauge("leader_election_master_status", "1 while this process leads.", () => [
    [{ name: leaseName }, source.scheduler !== undefined && source.leading ? 1 : 0],
  ]);
  registry.counterFunc(
    "scheduler_informer_lists_total",
    "Lists by the informers.",
    perInformer(source, (c) => c.lists),
  );
  registry.counterFunc(
    "scheduler_informer_watches_total",
    "Watches started.",
    perInformer(source, (c) => c.watches),
  );
  registry.counterFunc(
    "scheduler_informer_watch_events_total",
    "Watch events applied to the cache.",
    perInformer(source, (c) => c.events),
  );
  return registry;
}
