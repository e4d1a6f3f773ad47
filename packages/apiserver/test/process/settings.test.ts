// tug-apiserver's settings: flags, TUG_APISERVER_* environment and the YAML --config file, their
// precedence, Go durations, and errors that name the setting as the operator spelled it.

import { describe, expect, it } from "vitest";
import {
  type ApiServerSettings,
  ConfigError,
  parseDuration,
  parseSettings,
} from "../../src/process/settings.js";

function settings(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): ApiServerSettings {
  const r = parseSettings(argv, {
    env,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
  });
  if (r.kind !== "run") throw new Error(`expected settings, got exit ${r.code}: ${r.output}`);
  return r.settings;
}

function problems(argv: string[], env: Record<string, string> = {}): string {
  try {
    settings(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("tug-apiserver settings", () => {
  it("has kube-apiserver's defaults", () => {
    expect(settings(["--etcd-servers=http://127.0.0.1:2379"])).toEqual({
      etcdServers: ["http://127.0.0.1:2379"],
      etcdPrefix: "/registry",
      bindAddress: "0.0.0.0",
      securePort: 6443,
      healthPort: 6444,
      eventTtlSeconds: 3600,
      serviceClusterIpRange: "10.96.0.0/12",
      serviceNodePortRange: "30000-32767",
      compactionIntervalMs: 300_000,
      maxRequestsInflight: 400,
      maxMutatingRequestsInflight: 200,
      authentication: {
        serviceAccountKeys: [],
        serviceAccountIssuers: [],
        serviceAccountLookup: true,
        anonymous: true,
      },
      defaultNotReadyTolerationSeconds: 300,
      defaultUnreachableTolerationSeconds: 300,
      logLevel: "info",
    });
  });

  it("takes the Service ranges, normalized, and refuses bad ones", () => {
    const s = settings([
      "--etcd-servers=http://127.0.0.1:2379",
      "--service-cluster-ip-range=10.0.0.7/24",
      "--service-node-port-range=31000-31999",
      "--advertise-address=10.1.2.3",
    ]);
    expect(s).toMatchObject({
      serviceClusterIpRange: "10.0.0.0/24",
      serviceNodePortRange: "31000-31999",
      advertiseAddress: "10.1.2.3",
    });
    expect(() =>
      settings(["--etcd-servers=http://127.0.0.1:2379", "--service-node-port-range=9-1"]),
    ).toThrow(/--service-node-port-range: "9-1"/);
  });

  it("takes the in-flight limits, 0 for none", () => {
    const s = settings([
      "--etcd-servers=http://127.0.0.1:2379",
      "--max-requests-inflight=0",
      "--max-mutating-requests-inflight=50",
    ]);
    expect(s.maxRequestsInflight).toBe(0);
    expect(s.maxMutatingRequestsInflight).toBe(50);
    expect(
      problems(["--etcd-servers=http://x:1"], { TUG_APISERVER_MAX_REQUESTS_INFLIGHT: "-1" }),
    ).toContain(
      '--max-requests-inflight (set by TUG_APISERVER_MAX_REQUESTS_INFLIGHT) "-1" is not a count; give 0 (no limit) or more',
    );
  });

  it("takes a flag over the environment over the config file", () => {
    const files = {
      "/etc/tug.yaml":
        "etcd-servers: [http://a:2379, http://b:2379]\nsecure-port: 7000\nevent-ttl: 30m\n",
    };
    const fromFile = settings(["--config=/etc/tug.yaml"], {}, files);
    expect(fromFile.etcdServers).toEqual(["http://a:2379", "http://b:2379"]);
    expect(fromFile.securePort).toBe(7000);
    expect(fromFile.eventTtlSeconds).toBe(1800);
    const fromEnv = settings(
      ["--config=/etc/tug.yaml"],
      { TUG_APISERVER_SECURE_PORT: "7001" },
      files,
    );
    expect(fromEnv.securePort).toBe(7001);
    const fromFlag = settings(
      ["--config=/etc/tug.yaml", "--secure-port=7002"],
      { TUG_APISERVER_SECURE_PORT: "7001" },
      files,
    );
    expect(fromFlag.securePort).toBe(7002);
  });

  it("names the setting and the fix when a value is bad", () => {
    expect(problems([])).toContain("--etcd-servers is required");
    expect(problems(["--etcd-servers=http://x:1"], { TUG_APISERVER_EVENT_TTL: "soon" })).toContain(
      '--event-ttl (set by TUG_APISERVER_EVENT_TTL) "soon" is not a duration',
    );
    expect(problems(["--etcd-servers=http://x:1", "--secure-port=70000"])).toContain(
      '--secure-port "70000" is not a port',
    );
    expect(problems(["--etcd-servers=http://x:1"], { TUG_APISERVER_NOPE: "1" })).toContain(
      "TUG_APISERVER_NOPE in the environment is not a tug-apiserver setting",
    );
    expect(problems(["--etcd-servers=http://x:1", "--etcd-prefix=registry/"])).toContain(
      "must start with / and not end with one",
    );
  });

  it("answers --help and unknown flags with an exit", () => {
    const help = parseSettings(["--help"], { env: {} });
    expect(help).toMatchObject({ kind: "exit", code: 0, stream: "stdout" });
    expect(help.kind === "exit" && help.output).toContain("--etcd-compaction-interval");
    const unknown = parseSettings(["--etcd-server=x"], { env: {} });
    expect(unknown).toMatchObject({ kind: "exit", code: 2, stream: "stderr" });
  });

  it("reads Go durations", () => {
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("5")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
    expect(parseDuration("1x")).toBeUndefined();
  });
});
