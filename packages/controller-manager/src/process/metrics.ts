// tug-controller-manager's Prometheus metrics (text format 0.0.4), read from the
// ControllerManager at scrape time: leader_election_master_status as client-go names it, and
// tug's own leadership terms and reconciles per controller.

/** Prometheus text of the controller manager's state. */
export function metricsText(stats: {
  leading: boolean;
  terms: number;
  reconciles: ReadonlyMap<string, number>;
  reconcileErrors: ReadonlyMap<string, number>;
}): string {
  const lines = [
    "# HELP leader_election_master_status 1 while this instance leads, else 0 (client-go's name).",
    "# TYPE leader_election_master_status gauge",
    `leader_election_master_status{name="kube-controller-manager"} ${stats.leading ? 1 : 0}`,
    "# HELP tug_controller_manager_leader_terms_total Leadership terms this process has started.",
    "# TYPE tug_controller_manager_leader_terms_total counter",
    `tug_controller_manager_leader_terms_total ${stats.terms}`,
    "# HELP tug_controller_reconciles_total Reconciles that succeeded, per controller.",
    "# TYPE tug_controller_reconciles_total counter",
  ];
  for (const [name, n] of stats.reconciles) {
    lines.push(`tug_controller_reconciles_total{controller="${name}"} ${n}`);
  }
  lines.push(
    "# HELP tug_controller_reconcile_errors_total Reconciles that failed and were retried, per controller.",
    "# TYPE tug_controller_reconcile_errors_total counter",
  );
  for (const [name, n] of stats.reconcileErrors) {
    lines.push(`tug_controller_reconcile_errors_total{controller="${name}"} ${n}`);
  }
  return `${lines.join("\n")}\n`;
}
