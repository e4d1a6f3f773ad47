// tug-store's settings: flags (etcd's names), TUG_STORE_* environment variables and the YAML
// config file, their precedence, and every validation error — each must name the setting the
// operator used and say how to fix it.

import { describe, expect, it } from "vitest";
import { type StoreConfig, validateSettings } from "../../src/process/config.js";
import {
  ConfigError,
  envName,
  FLAGS,
  helpText,
  parseCommandLine,
} from "../../src/process/flags.js";
import { computeClusterId, computeMemberId } from "../../src/server/ids.js";

const CWD = "/srv";

interface LoadInput {
  readonly argv?: readonly string[];
  readonly env?: Record<string, string>;
  /** Config files by path. */
  readonly files?: Record<string, string>;
}

function load(input: LoadInput): StoreConfig {
  const parsed = parseCommandLine(input.argv ?? [], {
    env: input.env ?? {},
    readFile: (p) => {
      const f = input.files?.[p];
      if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return f;
    },
  });
  if (parsed.kind !== "run") throw new Error(`unexpected exit: ${parsed.output}`);
  return validateSettings(parsed.settings, { cwd: CWD, configFile: parsed.configFile });
}

/** The problems a ConfigError lists for `input`. */
function problems(input: LoadInput): readonly string[] {
  try {
    load(input);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError, got a valid configuration");
}

function oneProblem(input: LoadInput): string {
  const p = problems(input);
  expect(p).toHaveLength(1);
  return p[0] as string;
}

const THREE = [
  "--name=a",
  "--initial-advertise-peer-urls=http://10.0.0.1:2380",
  "--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380",
];

describe("defaults", () => {
  it("are etcd's flags with tug's ports: a one-member cluster on loopback", () => {
    const c = load({});
    expect(c.name).toBe("default");
    expect(c.dataDir).toBe("/srv/default.tug-store");
    expect(c.listenClientUrls).toEqual([
      { url: "http://127.0.0.1:2379", host: "127.0.0.1", port: 2379 },
    ]);
    expect(c.advertiseClientUrls).toEqual(["http://127.0.0.1:2379"]);
    expect(c.listenPeerUrls.map((u) => u.port)).toEqual([2380]);
    expect(c.listenMetricsUrls.map((u) => u.url)).toEqual(["http://127.0.0.1:2381"]);
    expect(c.initialCluster).toEqual([
      {
        name: "default",
        peerUrls: ["http://127.0.0.1:2380"],
        id: computeMemberId(["http://127.0.0.1:2380"], "etcd-cluster"),
      },
    ]);
    expect(c.initialClusterState).toBe("new");
    expect(c.heartbeatIntervalMs).toBe(100);
    expect(c.electionTimeoutMs).toBe(1000);
    expect(c.electionTicks).toBe(10);
    expect(c.snapshotCount).toBe(100000);
    expect(c.logLevel).toBe("info");
  });

  it("every flag has a TUG_STORE_ variable and appears in --help", () => {
    const help = helpText();
    for (const f of FLAGS) {
      expect(envName(f.name)).toMatch(/^TUG_STORE_[A-Z_]+$/);
      expect(help).toContain(`--${f.name}`);
    }
    expect(envName("initial-cluster-token")).toBe("TUG_STORE_INITIAL_CLUSTER_TOKEN");
  });
});

describe("a 3-member bootstrap", () => {
  it("gives every member etcd's ids computed from --initial-cluster and the token", () => {
    const c = load({ argv: [...THREE, "--initial-cluster-token=t1"] });
    const ids = ["1", "2", "3"].map((i) => computeMemberId([`http://10.0.0.${i}:2380`], "t1"));
    expect(c.initialCluster.map((m) => [m.name, m.id])).toEqual([
      ["a", ids[0]],
      ["b", ids[1]],
      ["c", ids[2]],
    ]);
    expect(c.memberId).toBe(ids[0]);
    expect(c.clusterId).toBe(computeClusterId(ids as number[]));
    // Another token, another cluster: a data dir of one is never mistaken for the other's.
    expect(load({ argv: [...THREE, "--initial-cluster-token=t2"] }).clusterId).not.toBe(
      c.clusterId,
    );
  });

  it("accepts Go-style single-dash flags and --flag value", () => {
    const c = load({
      argv: ["-name", "a", "-initial-cluster", "a=http://127.0.0.1:2380", "--snapshot-count", "5"],
    });
    expect(c.name).toBe("a");
    expect(c.snapshotCount).toBe(5);
  });
});

describe("sources and precedence", () => {
  const file = [
    "name: from-file",
    "heartbeat-interval: 50",
    "election-timeout: 500",
    "listen-client-urls:",
    "  - http://127.0.0.1:3379",
    "  - http://127.0.0.2:3379",
    "log-level: debug",
  ].join("\n");

  it("reads the YAML config file: same keys as the flags, lists or comma strings", () => {
    const c = load({ argv: ["--config-file=/etc/tug.yaml"], files: { "/etc/tug.yaml": file } });
    expect(c.name).toBe("from-file");
    expect(c.heartbeatIntervalMs).toBe(50);
    expect(c.electionTimeoutMs).toBe(500);
    expect(c.listenClientUrls.map((u) => u.url)).toEqual([
      "http://127.0.0.1:3379",
      "http://127.0.0.2:3379",
    ]);
    expect(c.logLevel).toBe("debug");
  });

  it("finds the config file through TUG_STORE_CONFIG_FILE too", () => {
    const c = load({
      env: { TUG_STORE_CONFIG_FILE: "/etc/tug.yaml" },
      files: { "/etc/tug.yaml": file },
    });
    expect(c.name).toBe("from-file");
  });

  it("flag over environment over file over default", () => {
    const files = { "/etc/tug.yaml": file };
    const env = { TUG_STORE_NAME: "from-env", TUG_STORE_HEARTBEAT_INTERVAL: "20" };
    const c = load({
      argv: ["--config-file=/etc/tug.yaml", "--heartbeat-interval=10"],
      env,
      files,
    });
    expect(c.heartbeatIntervalMs).toBe(10); // flag
    expect(c.name).toBe("from-env"); // env over file
    expect(c.electionTimeoutMs).toBe(500); // file over default
    expect(c.snapshotCount).toBe(100000); // default
  });

  it("names the environment variable or config key a bad value came from", () => {
    expect(oneProblem({ env: { TUG_STORE_SNAPSHOT_COUNT: "lots" } })).toBe(
      '--snapshot-count (set by TUG_STORE_SNAPSHOT_COUNT) "lots" is not a whole number',
    );
    expect(
      oneProblem({ argv: ["--config-file=/c.yaml"], files: { "/c.yaml": "log-level: loud" } }),
    ).toBe(
      '--log-level (set by "log-level" in /c.yaml) "loud" must be one of debug, info, warn, error',
    );
  });
});

describe("errors before anything starts", () => {
  it("unknown flags are a usage error (exit 2) that points to --help", () => {
    const r = parseCommandLine(["--election-timeuot=5"], { env: {} });
    expect(r.kind).toBe("exit");
    if (r.kind !== "exit") return;
    expect(r.code).toBe(2);
    expect(r.output).toContain("unknown option '--election-timeuot=5'");
    expect(r.output).toContain("tug-store --help");
  });

  it("--help and --version exit 0 on stdout", () => {
    const h = parseCommandLine(["--help"], { env: {} });
    expect(h).toMatchObject({ kind: "exit", code: 0, stream: "stdout" });
    const v = parseCommandLine(["--version"], { env: {}, version: "tug-store 9.9.9" });
    expect(v).toMatchObject({ kind: "exit", code: 0, output: "tug-store 9.9.9\n" });
  });

  it("stray positional arguments are a usage error", () => {
    expect(parseCommandLine(["serve"], { env: {} })).toMatchObject({ kind: "exit", code: 2 });
  });

  it("an unknown TUG_STORE_ variable is an error with a suggestion", () => {
    expect(oneProblem({ env: { TUG_STORE_ELECTION_TIMOUT: "1000" } })).toBe(
      "TUG_STORE_ELECTION_TIMOUT in the environment is not a tug-store setting (did you mean TUG_STORE_ELECTION_TIMEOUT?); unset it or fix its name",
    );
  });

  it("config file: missing, not YAML, not a mapping, unknown key, wrong value type", () => {
    expect(oneProblem({ argv: ["--config-file=/nope.yaml"] })).toMatch(
      /^--config-file \/nope.yaml cannot be read \(ENOENT.*\); fix the path or create the file$/,
    );
    expect(oneProblem({ argv: ["--config-file=/c"], files: { "/c": "a: [1" } })).toMatch(
      /^--config-file \/c is not valid YAML: /,
    );
    expect(oneProblem({ argv: ["--config-file=/c"], files: { "/c": "- a\n- b" } })).toBe(
      '--config-file /c must be a YAML mapping of settings (e.g. "name: infra1"), not a list',
    );
    expect(oneProblem({ argv: ["--config-file=/c"], files: { "/c": "data_dir: /x" } })).toBe(
      '"data_dir" in /c is not a tug-store setting (did you mean "data-dir"?); remove it or fix its name (keys are the flags without the dashes)',
    );
    expect(oneProblem({ argv: ["--config-file=/c"], files: { "/c": "name: {a: 1}" } })).toBe(
      '"name" in /c must be a string, a number or a list of strings',
    );
  });

  it("--election-timeout below 5 heartbeats, not a multiple of them, or above etcd's maximum", () => {
    expect(oneProblem({ argv: ["--election-timeout=50", "--heartbeat-interval=100"] })).toBe(
      "--election-timeout 50 must be at least 5x --heartbeat-interval 100: raise --election-timeout to 500 or more, or lower --heartbeat-interval",
    );
    expect(oneProblem({ argv: ["--election-timeout=1050"] })).toBe(
      "--election-timeout 1050 is not a multiple of --heartbeat-interval 100 (Raft counts the election timeout in heartbeats): use 1000 or 1100",
    );
    expect(oneProblem({ argv: ["--election-timeout=60000"] })).toBe(
      "--election-timeout 60000 is above the maximum 50000 ms; lower it",
    );
  });

  it("numbers: not a number, zero, empty", () => {
    expect(oneProblem({ argv: ["--heartbeat-interval=1.5"] })).toBe(
      '--heartbeat-interval "1.5" is not a whole number of milliseconds',
    );
    expect(oneProblem({ argv: ["--snapshot-count=0"] })).toBe(
      "--snapshot-count 0 must be at least 1",
    );
    expect(oneProblem({ argv: ["--max-txn-ops="] })).toBe(
      "--max-txn-ops is empty; give a whole number",
    );
    expect(oneProblem({ argv: ["--max-request-bytes=-1"] })).toBe(
      '--max-request-bytes "-1" is not a whole number of bytes',
    );
  });

  it("--name: empty, or with characters --initial-cluster uses", () => {
    expect(problems({ argv: ["--name="] })[0]).toBe(
      "--name is empty; give this member a name, e.g. --name=infra1",
    );
    expect(problems({ argv: ["--name=a=b"] })[0]).toBe(
      '--name "a=b" may not contain "=", "," or spaces (they separate --initial-cluster entries); pick another name',
    );
  });

  it("URLs: not a URL, TLS, another scheme, no port, port 0, a path", () => {
    expect(oneProblem({ argv: ["--listen-client-urls=127.0.0.1:2379"] })).toBe(
      '--listen-client-urls "127.0.0.1:2379" is not a URL; write it as http://host:port, e.g. http://127.0.0.1:2379',
    );
    expect(oneProblem({ argv: ["--listen-client-urls=https://127.0.0.1:2379"] })).toBe(
      "--listen-client-urls https://127.0.0.1:2379: TLS is not supported yet; use http://",
    );
    expect(oneProblem({ argv: ["--listen-metrics-urls=unix://x:1"] })).toBe(
      "--listen-metrics-urls unix://x:1: the scheme must be http://, e.g. http://127.0.0.1:2381",
    );
    expect(oneProblem({ argv: ["--advertise-client-urls=http://10.0.0.1"] })).toBe(
      "--advertise-client-urls http://10.0.0.1 has no port; give it explicitly, e.g. http://10.0.0.1:2379",
    );
    expect(oneProblem({ argv: ["--listen-client-urls=http://127.0.0.1:0"] })).toBe(
      "--listen-client-urls http://127.0.0.1:0: port 0 is not allowed (the URL is advertised to others); give a port",
    );
    expect(oneProblem({ argv: ["--advertise-client-urls=http://10.0.0.1:2379/v3"] })).toBe(
      "--advertise-client-urls http://10.0.0.1:2379/v3 must be just http://host:port; remove the path, query or credentials",
    );
    expect(oneProblem({ argv: ["--listen-client-urls="] })).toBe(
      "--listen-client-urls is empty; give at least one URL, e.g. http://127.0.0.1:2379",
    );
  });

  it("one peer listener", () => {
    expect(
      oneProblem({ argv: ["--listen-peer-urls=http://127.0.0.1:2380,http://127.0.0.2:2380"] }),
    ).toBe(
      "--listen-peer-urls lists 2 URLs; tug-store listens for peers on one (use http://0.0.0.0:<port> for every interface)",
    );
  });

  it("listen URLs need an IP to bind; advertised URLs must be reachable", () => {
    expect(oneProblem({ argv: ["--listen-client-urls=http://node1:2379"] })).toBe(
      "--listen-client-urls http://node1:2379: a listen URL needs an IP address (or localhost) to bind to, not a host name; use http://0.0.0.0:2379 to listen on every interface",
    );
    expect(oneProblem({ argv: ["--advertise-client-urls=http://0.0.0.0:2379"] })).toBe(
      "--advertise-client-urls http://0.0.0.0:2379: 0.0.0.0 is where to listen, not an address others can reach; advertise this host's IP or name",
    );
  });

  it("the client, peer and metrics listeners need their own ports", () => {
    expect(oneProblem({ argv: ["--listen-metrics-urls=http://127.0.0.1:2379"] })).toBe(
      "--listen-metrics-urls http://127.0.0.1:2379 uses the same port as --listen-client-urls; give each its own port",
    );
    expect(oneProblem({ argv: ["--listen-peer-urls=http://0.0.0.0:2379"] })).toBe(
      "--listen-peer-urls http://0.0.0.0:2379 uses the same port as --listen-client-urls; give each its own port",
    );
    expect(
      oneProblem({ argv: ["--listen-client-urls=http://127.0.0.1:2379,http://127.0.0.1:2379"] }),
    ).toBe("--listen-client-urls lists port 2379 twice; give each URL its own port");
  });

  it("--initial-cluster must contain --name with the advertised peer URLs", () => {
    expect(oneProblem({ argv: [...THREE, "--name=d"] })).toBe(
      '--initial-cluster has no member named "d" (--name); add d=<its peer URL> to it, or fix --name',
    );
    expect(
      oneProblem({ argv: [...THREE, "--initial-advertise-peer-urls=http://10.0.0.9:2380"] }),
    ).toBe(
      "--initial-cluster gives a the peer URLs http://10.0.0.1:2380 but --initial-advertise-peer-urls is http://10.0.0.9:2380; they must be the same",
    );
  });

  it("--initial-cluster: malformed entries, shared peer URLs (a member id clash)", () => {
    expect(oneProblem({ argv: ["--initial-cluster=default"] })).toBe(
      '--initial-cluster entry "default" must be name=http://host:port, e.g. infra1=http://10.0.0.1:2380',
    );
    expect(oneProblem({ argv: ["--initial-cluster=default=10.0.0.1"] })).toBe(
      '--initial-cluster entry default= "10.0.0.1" is not a URL; write it as http://host:port, e.g. http://127.0.0.1:2380',
    );
    const clash = problems({
      argv: ["--initial-cluster=default=http://127.0.0.1:2380,b=http://127.0.0.1:2380"],
    });
    expect(clash).toEqual([
      "--initial-cluster gives default and b the same peer URL http://127.0.0.1:2380; each member needs its own",
      `--initial-cluster: members default and b get the same member id ${computeMemberId(["http://127.0.0.1:2380"], "etcd-cluster").toString(16)}; give them different peer URLs`,
    ]);
  });

  it("--initial-cluster-state and --initial-cluster-token", () => {
    expect(oneProblem({ argv: ["--initial-cluster-state=join"] })).toBe(
      '--initial-cluster-state "join" must be "new" (bootstrap a cluster) or "existing" (join one after etcdctl member add)',
    );
    expect(oneProblem({ argv: ["--initial-cluster-token="] })).toBe(
      "--initial-cluster-token is empty; give the same token to every member of the cluster",
    );
  });

  it("lists every problem at once", () => {
    const p = problems({ argv: ["--election-timeout=10", "--log-level=x", "--snapshot-count=no"] });
    expect(p).toHaveLength(3);
    const err = new ConfigError(p);
    expect(err.message.split("\n")[0]).toBe("invalid configuration:");
    expect(err.message.split("\n")).toHaveLength(4);
  });
});
