// tug-controller-manager's /metrics text, read from the manager's counters at scrape time.

import { describe, expect, it } from "vitest";
import { controllerManagerMetrics } from "../../src/process/metrics.js";

describe("controllerManagerMetrics", () => {
  it("reads leadership and reconciles per controller whenever it renders", () => {
    const stats = {
      leading: false,
      terms: 0,
      reconciles: new Map<string, number>(),
      reconcileErrors: new Map<string, number>(),
    };
    const metrics = controllerManagerMetrics(stats);
    expect(metrics.render()).toContain(
      'leader_election_master_status{name="kube-controller-manager"} 0',
    );
    expect(metrics.render()).not.toContain("tug_controller_reconciles_total{");
    stats.leading = true;
    stats.terms = 1;
    stats.reconciles.set("deployment", 3);
    stats.reconcileErrors.set("replicaset", 1);
    const text = metrics.render();
    expect(text).toContain('leader_election_master_status{name="kube-controller-manager"} 1');
    expect(text).toContain("# TYPE tug_controller_manager_leader_terms_total counter");
    expect(text).toContain("tug_controller_manager_leader_terms_total 1");
    expect(text).toContain('tug_controller_reconciles_total{controller="deployment"} 3');
    expect(text).toContain('tug_controller_reconcile_errors_total{controller="replicaset"} 1');
  });
});
