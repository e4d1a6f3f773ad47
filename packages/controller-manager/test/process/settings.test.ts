// tug-controller-manager's flags and environment.

import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KNOWN_CONTROLLERS } from "../../src/index.js";
import {
  ConfigError,
  envName,
  loadClusterSettings,
  parseControllers,
  parseSettings,
} from "../../src/process/settings.js";

function settings(argv: string[], env: Record<string, string> = {}) {
  const r = parseSettings(argv, { env });
  if (r.kind !== "run") throw new Error(`expected settings, got exit ${r.code}: ${r.output}`);
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
      concurrentSyncs: {
        job: 5,
        cronjob: 5,
        daemonset: 2,
        statefulset: 5,
        "ttl-after-finished": 5,
      },
      cluster: {
        nodeMonitorPeriodMs: 5_000,
        nodeMonitorGracePeriodMs: 50_000,
        nodeStartupGracePeriodMs: 60_000,
        nodeEvictionRate: 0.1,
        secondaryNodeEvictionRate: 0.01,
        largeClusterSizeThreshold: 50,
        unhealthyZoneThreshold: 0.55,
        clusterCidr: "10.244.0.0/16",
        nodeCidrMaskSize: 24,
        resourceQuotaSyncPeriodMs: 300_000,
        pvClaimBinderSyncPeriodMs: 15_000,
      },
      serviceAccountPrivateKeyFile: "",
      rootCaFile: "",
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

describe("cluster and batch controller settings", () => {
  it("reads kube-controller-manager's flags, their environment variables and the config file", () => {
    const files: Record<string, string> = {
      "/etc/tug/cm.json": JSON.stringify({
        "node-monitor-grace-period": "40s",
        "node-eviction-rate": 0.5,
        "concurrent-job-syncs": 3,
        "cluster-cidr": "10.8.0.0/14",
      }),
    };
    const readFile = (path: string) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    };
    const parse = (argv: string[], env: Record<string, string> = {}) => {
      const r = parseSettings(argv, { env, readFile });
      if (r.kind !== "run") throw new Error(r.output);
      return r.settings;
    };
    const s = parse(
      [
        "--config",
        "/etc/tug/cm.json",
        "--node-monitor-period=2s",
        "--node-cidr-mask-size",
        "20",
        "--concurrent-cron-job-syncs",
        "7",
        "--service-account-private-key-file",
        "/k/sa.key",
      ],
      {
        TUG_CONTROLLER_MANAGER_NODE_MONITOR_GRACE_PERIOD: "20s",
        TUG_CONTROLLER_MANAGER_UNHEALTHY_ZONE_THRESHOLD: "0.7",
        TUG_CONTROLLER_MANAGER_PVCLAIMBINDER_SYNC_PERIOD: "1m",
      },
    );
    expect(s.cluster).toMatchObject({
      nodeMonitorPeriodMs: 2_000,
      nodeMonitorGracePeriodMs: 20_000, // the environment beats the file
      nodeEvictionRate: 0.5, // from the file
      unhealthyZoneThreshold: 0.7,
      clusterCidr: "10.8.0.0/14",
      nodeCidrMaskSize: 20,
      pvClaimBinderSyncPeriodMs: 60_000,
      resourceQuotaSyncPeriodMs: 300_000,
    });
    expect(s.concurrentSyncs).toEqual({
      job: 3,
      cronjob: 7,
      daemonset: 2,
      statefulset: 5,
      "ttl-after-finished": 5,
    });
    expect(s.serviceAccountPrivateKeyFile).toBe("/k/sa.key");
    expect(
      parse(["--config", "/etc/tug/cm.json", "--node-monitor-grace-period", "1m"]).cluster
        .nodeMonitorGracePeriodMs,
    ).toBe(60_000);
    expect(() => parse(["--config", "/nope.json"])).toThrow(
      /--config \/nope.json cannot be read \(ENOENT.*\); fix the path or create the file/,
    );
    files["/bad.json"] = JSON.stringify({ "node-monitor-grace": "1s" });
    expect(() => parse(["--config", "/bad.json"])).toThrow(
      /"node-monitor-grace" in \/bad.json is not a tug-controller-manager setting; remove it or fix its name/,
    );
    files["/bad-value.json"] = JSON.stringify({ "resource-quota-sync-period": "often" });
    expect(() => parse(["--config", "/bad-value.json"])).toThrow(
      /"resource-quota-sync-period" in \/bad-value.json: invalid duration "often"/,
    );
  });

  it("names the setting and the fix for a bad duration, rate, CIDR or mask size", () => {
    expect(() => settings(["--node-monitor-grace-period", "40"])).toThrow(
      /--node-monitor-grace-period: invalid duration "40"; use a positive Go duration such as 15s or 1m30s/,
    );
    expect(() => settings([], { TUG_CONTROLLER_MANAGER_NODE_STARTUP_GRACE_PERIOD: "-1m" })).toThrow(
      /TUG_CONTROLLER_MANAGER_NODE_STARTUP_GRACE_PERIOD: invalid duration "-1m"/,
    );
    expect(() => settings(["--node-eviction-rate", "fast"])).toThrow(
      /--node-eviction-rate: invalid value "fast"; use a number from 0/,
    );
    expect(() => settings(["--unhealthy-zone-threshold", "1.5"])).toThrow(
      /--unhealthy-zone-threshold: invalid value "1.5"; use a number from 0 to 1/,
    );
    expect(() => settings(["--cluster-cidr", "10.0.0.0"])).toThrow(
      /--cluster-cidr: invalid CIDR "10.0.0.0"/,
    );
    expect(() => settings(["--node-cidr-mask-size", "12"])).toThrow(
      /--node-cidr-mask-size: 12 does not fit the cluster CIDR 10.244.0.0\/16; use a prefix length from 16 to 32/,
    );
    expect(() => settings(["--concurrent-job-syncs", "0"])).toThrow(
      /--concurrent-job-syncs: invalid value "0"; use an integer from 1 to 1000/,
    );
  });

  it("loads the signing key and root CA, and names an unreadable or bad file", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" });
    const files: Record<string, Buffer> = {
      "/k/sa.key": Buffer.from(pem),
      "/k/ca.crt": Buffer.from("-----BEGIN CERTIFICATE-----\n"),
      "/k/junk": Buffer.from("junk"),
    };
    const readFile = (path: string) => {
      const data = files[path];
      if (data === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return data;
    };
    const loaded = loadClusterSettings(
      settings(["--service-account-private-key-file", "/k/sa.key", "--root-ca-file", "/k/ca.crt"]),
      readFile,
    );
    expect(loaded.serviceAccountSigningKey?.asymmetricKeyType).toBe("ec");
    expect(Buffer.from(loaded.rootCa ?? []).toString()).toContain("BEGIN CERTIFICATE");
    expect(loaded.nodeMonitorGracePeriodMs).toBe(50_000);
    expect(loadClusterSettings(settings([]), readFile).serviceAccountSigningKey).toBeUndefined();
    expect(() => loadClusterSettings(settings(["--root-ca-file", "/k/missing"]), readFile)).toThrow(
      /--root-ca-file \/k\/missing: cannot be read \(ENOENT/,
    );
    expect(() =>
      loadClusterSettings(settings(["--service-account-private-key-file", "/k/junk"]), readFile),
    ).toThrow(/--service-account-private-key-file \/k\/junk: not a PEM private key/);
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
