// tug-scheduler's Prometheus metrics, named as kube-scheduler names them:
// scheduler_schedule_attempts_total{result}, scheduler_pending_pods{queue},
// scheduler_cache_size{type}, leader_election_master_status{name}; and tug's own
// scheduler_events_queued / scheduler_events_dropped_total (see event-sink.ts), and
// scheduler_informer_lists_total / _watches_total / _watch_events_total{resource}: a watch
// started again (the API server closes a watch whose reader fell 100 events behind) or a relist
// shows there. Read from the scheduler at scrape time.

import type { ReflectorCounts } from "@tug/client";
import type { Scheduler } from "../scheduler.js";
import type { EventSink } from "./event-sink.js";

function informerCounters(
  informers: ReadonlyMap<string, { reflectorCounts(): ReflectorCounts }>,
): string[] {
  const counts = [...informers].map(([resource, i]) => [resource, i.reflectorCounts()] as const);
  const family = (name: string, help: string, pick: (c: ReflectorCounts) => number) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} counter`,
    ...counts.map(([resource, c]) => `${name}{resource="${resource}"} ${pick(c)}`),
  ];
  return [
    ...family("scheduler_informer_lists_total", "Lists by the informers.", (c) => c.lists),
    ...family("scheduler_informer_watches_total", "Watches started.", (c) => c.watches),
    ...family(
      "scheduler_informer_watch_events_total",
      "Watch events applied to the cache.",
      (c) => c.events,
    ),
  ];
}

export function renderMetrics(
  scheduler: Scheduler,
  leading: boolean,
  leaseName: string,
  events?: Pick<EventSink, "queued" | "dropped">,
  informers: ReadonlyMap<string, { reflectorCounts(): ReflectorCounts }> = new Map(),
): string {
  const s = scheduler.stats;
  const q = scheduler.queue.pending();
  return `${[
    "# HELP scheduler_schedule_attempts_total Scheduling attempts by result.",
    "# TYPE scheduler_schedule_attempts_total counter",
    `scheduler_schedule_attempts_total{result="scheduled"} ${s.scheduled}`,
    `scheduler_schedule_attempts_total{result="unschedulable"} ${s.unschedulable}`,
    `scheduler_schedule_attempts_total{result="error"} ${s.bindErrors}`,
    "# HELP scheduler_pending_pods Pending pods by sub-queue.",
    "# TYPE scheduler_pending_pods gauge",
    `scheduler_pending_pods{queue="active"} ${q.active}`,
    `scheduler_pending_pods{queue="backoff"} ${q.backoff}`,
    `scheduler_pending_pods{queue="unschedulable"} ${q.unschedulable}`,
    `scheduler_pending_pods{queue="gated"} 0`,
    "# HELP scheduler_cache_size Nodes, pods and assumed pods in the scheduler cache.",
    "# TYPE scheduler_cache_size gauge",
    `scheduler_cache_size{type="nodes"} ${scheduler.snapshot.numNodes()}`,
    `scheduler_cache_size{type="pods"} ${scheduler.snapshot.numPods()}`,
    `scheduler_cache_size{type="assumed_pods"} ${scheduler.snapshot.numAssumedPods()}`,
    "# HELP scheduler_events_queued Event writes waiting for a turn.",
    "# TYPE scheduler_events_queued gauge",
    `scheduler_events_queued ${events?.queued ?? 0}`,
    "# HELP scheduler_events_dropped_total Events dropped because the event queue was full.",
    "# TYPE scheduler_events_dropped_total counter",
    `scheduler_events_dropped_total ${events?.dropped ?? 0}`,
    "# HELP leader_election_master_status 1 while this process leads.",
    "# TYPE leader_election_master_status gauge",
    `leader_election_master_status{name="${leaseName}"} ${leading ? 1 : 0}`,
    ...informerCounters(informers),
  ].join("\n")}\n`;
}
