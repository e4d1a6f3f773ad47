// tug-controller-manager's flags and environment.

import { describe, expect, it } from "vitest";
import { KNOWN_CONTROLLERS } from "../../src/index.js";
import {
  ConfigError,
  envName,
  parseControllers,
  parseSettings,
} from "../../src/process/settings.js";

function settings(argv: string[], env: Record<string, string> = {}) {
  const r = parseSettings(argv, { env });
  if (r.kind !== "settings") throw new Error(`expected settings, got exit ${r.code}: ${r.output}`);
  return r.settings;
}

describe("parseSettings", () => {
  it("defaults to kube-controller-manager's values", () => {
    expect(settings([])).toEqual({
      servers: ["127.0.0.1:6443"],
      controllers: [...KNOWN_CONTROLLERS],
      leaderElect: true,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      leaseNamespace: "kube-system",
      leaseName: "kube-controller-manager",
      concurrentDeploymentSyncs: 5,
      concurrentReplicaSetSyncs: 5,
      bindAddress: "0.0.0.0",
      healthPort: 10257,
      logLevel: "info",
    });
  });

  it("reads TUG_CONTROLLER_MANAGER_* and lets flags win", () => {
    expect(envName("leader-elect-lease-duration")).toBe(
      "TUG_CONTROLLER_MANAGER_LEADER_ELECT_LEASE_DURATION",
    );
    const env = {
      TUG_CONTROLLER_MANAGER_MASTER: "a:1,b:2",
      TUG_CONTROLLER_MANAGER_CONCURRENT_DEPLOYMENT_SYNCS: "7",
      TUG_CONTROLLER_MANAGER_LEADER_ELECT: "false",
    };
    const s = settings(["--concurrent-deployment-syncs", "9"], env);
    expect(s.servers).toEqual(["a:1", "b:2"]);
    expect(s.concurrentDeploymentSyncs).toBe(9);
    expect(s.leaderElect).toBe(false);
    expect(settings(["--server", "c:3"], env).servers).toEqual(["c:3"]);
  });

  it("parses durations and checks their order", () => {
    const s = settings([
      "--leader-elect-lease-duration=1m30s",
      "--leader-elect-renew-deadline=500ms",
      "--leader-elect-retry-period=100ms",
    ]);
    expect([s.leaseDurationMs, s.renewDeadlineMs, s.retryPeriodMs]).toEqual([90_000, 500, 100]);
    expect(() => settings(["--leader-elect-lease-duration=soon"])).toThrow(
      /--leader-elect-lease-duration: invalid duration "soon"; use a positive Go duration/,
    );
    expect(() => settings(["--leader-elect-renew-deadline=20s"])).toThrow(
      /--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration/,
    );
  });

  it("names the setting and the fix for bad values", () => {
    expect(() => settings(["--concurrent-replicaset-syncs", "0"])).toThrow(ConfigError);
    expect(() => settings(["--log-level", "loud"])).toThrow(/--log-level: invalid level "loud"/);
    expect(() => settings([], { TUG_CONTROLLER_MANAGER_LEADER_ELECT: "yes" })).toThrow(
      /TUG_CONTROLLER_MANAGER_LEADER_ELECT: invalid value "yes"; use true or false/,
    );
  });

  it("--help and unknown flags exit", () => {
    const help = parseSettings(["--help"]);
    expect(help.kind === "exit" && help.code === 0 && help.output.includes("--leader-elect")).toBe(
      true,
    );
    const bad = parseSettings(["--no-such-flag"]);
    expect(bad.kind === "exit" && bad.code === 2).toBe(true);
  });
});

describe("parseControllers (kube-controller-manager's --controllers)", () => {
  it.each([
    ["*", [...KNOWN_CONTROLLERS]],
    ["*,-replicaset", KNOWN_CONTROLLERS.filter((c) => c !== "replicaset")],
    ["replicaset", ["replicaset"]],
    ["deployment,replicaset", ["replicaset", "deployment"]],
  ])("%s → %j", (value, expected) => {
    expect(parseControllers(value, "--controllers")).toEqual(expected);
  });

  it("rejects an unknown controller, listing the known ones", () => {
    expect(() => parseControllers("*,cronjob-ish", "--controllers")).toThrow(
      /--controllers: unknown controller "cronjob-ish"; known controllers: replicaset, deployment/,
    );
  });
});
