// tug-scheduler's Prometheus metrics, named as kube-scheduler names them:
// scheduler_schedule_attempts_total{result}, scheduler_pending_pods{queue},
// scheduler_cache_size{type}, leader_election_master_status{name}; and tug's own
// scheduler_events_queued / scheduler_events_dropped_total (see event-sink.ts). Read from the scheduler at scrape time.

import type { Scheduler } from "../scheduler.js";
import type { EventSink } from "./event-sink.js";

export function renderMetrics(
  scheduler: Scheduler,
  leading: boolean,
  leaseName: string,
  events?: Pick<EventSink, "queued" | "dropped">,
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
  ].join("\n")}\n`;
}
