// tug-controller-manager's Prometheus metrics, read from the ControllerManager at scrape time:
// leader_election_master_status as client-go names it, and tug's own leadership terms and
// reconciles per controller. Rendered by @tug/daemon's registry (text format 0.0.4).

import { type Labels, MetricsRegistry } from "@tug/daemon";

/** What the metrics read, at scrape time. */
export interface ControllerManagerMetricsSource {
  readonly leading: boolean;
  readonly terms: number;
  readonly reconciles: ReadonlyMap<string, number>;
  readonly reconcileErrors: ReadonlyMap<string, number>;
}

function perController(counts: ReadonlyMap<string, number>): [Labels, number][] {
  return [...counts].map(([controller, n]) => [{ controller }, n]);
}

/** A registry whose metrics read `stats` whenever it is rendered. */
export function controllerManagerMetrics(stats: ControllerManagerMetricsSource): MetricsRegistry {
  const registry = new MetricsRegistry();
  registry.gauge(
    "leader_election_master_status",
    "1 while this instance leads, else 0 (client-go's name).",
    () => [[{ name: "kube-controller-manager" }, stats.leading ? 1 : 0]],
  );
  registry.counterFunc(
    "tug_controller_manager_leader_terms_total",
    "Leadership terms this process has started.",
    () => stats.terms,
  );
  registry.counterFunc(
    "tug_controller_reconciles_total",
    "Reconciles that succeeded, per controller.",
    () => perController(stats.reconciles),
  );
  registry.counterFunc(
    "tug_controller_reconcile_errors_total",
    "Reconciles that failed and were retried, per controller.",
    () => perController(stats.reconcileErrors),
  );
  return registry;
}
