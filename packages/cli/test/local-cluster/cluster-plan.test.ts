import { describe, expect, it } from "vitest";
import { CliError } from "../../src/cli-error.js";
import {
  clusterIdFor,
  MAX_AGENTS,
  nodeNames,
  planCluster,
  STAGES,
} from "../../src/local-cluster/cluster-plan.js";

const base = { dataDir: "/data/c", runDir: "/run/tug", agents: 2, basePort: 2379 };

function ports(plan: ReturnType<typeof planCluster>): Record<string, readonly number[]> {
  return Object.fromEntries(plan.components.map((c) => [c.name, c.ports]));
}

describe("planCluster", () => {
  it("uses DESIGN.md's default ports at base port 2379", () => {
    const plan = planCluster(base);
    expect(ports(plan)).toEqual({
      "store-1": [2379, 2380, 2381],
      "store-2": [22379, 22380, 22381],
      "store-3": [32379, 32380, 32381],
      apiserver: [6443, 6444],
      scheduler: [10259],
      "controller-manager": [10257],
      "cri-docker-tug-node-1": [10270],
      "cri-docker-tug-node-2": [10271],
      "agent-tug-node-1": [10250],
      "agent-tug-node-2": [10251],
    });
    expect(plan.apiServer).toBe("127.0.0.1:6443");
    expect(plan.nodes).toEqual(["tug-node-1", "tug-node-2"]);
  });

  it("moves every port by the base port's offset", () => {
    const plan = planCluster({ ...base, basePort: 2479 });
    expect(ports(plan)["store-2"]).toEqual([22479, 22480, 22481]);
    expect(ports(plan).apiserver).toEqual([6543, 6544]);
    expect(ports(plan)["agent-tug-node-2"]).toEqual([10351]);
    expect(plan.apiServer).toBe("127.0.0.1:6543");
  });

  it("gives the store members one initial cluster and each its own data dir", () => {
    const plan = planCluster(base);
    const stores = plan.components.filter((c) => c.binary === "tug-store");
    expect(stores).toHaveLength(3);
    for (const s of stores) {
      expect(s.args).toContain(
        "--initial-cluster=store-1=http://127.0.0.1:2380,store-2=http://127.0.0.1:22380,store-3=http://127.0.0.1:32380",
      );
      expect(s.args).toContain(`--data-dir=/data/c/store/${s.name}`);
    }
    const api = plan.components.find((c) => c.name === "apiserver");
    expect(api?.args).toContain(
      "--etcd-servers=http://127.0.0.1:2379,http://127.0.0.1:22379,http://127.0.0.1:32379",
    );
  });

  it("gives the API server and controller manager the service-account key pair", () => {
    const plan = planCluster(base);
    const args = (name: string) => plan.components.find((c) => c.name === name)?.args ?? [];
    expect(args("apiserver")).toContain("--service-account-key-file=/data/c/pki/sa.pub");
    expect(args("apiserver")).toContain(
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    );
    expect(args("controller-manager")).toContain(
      "--service-account-private-key-file=/data/c/pki/sa.key",
    );
  });

  it("pairs each agent with its own runtime socket and Docker instance", () => {
    const plan = planCluster(base);
    const runtime = plan.components.find((c) => c.name === "cri-docker-tug-node-2");
    const agent = plan.components.find((c) => c.name === "agent-tug-node-2");
    expect(runtime?.criSocket).toBe("/run/tug/tug-node-2/cri-docker.sock");
    expect(runtime?.args).toContain("--listen=/run/tug/tug-node-2/cri-docker.sock");
    expect(runtime?.criInstance).toBe(`tug-local-${clusterIdFor("/data/c")}-tug-node-2`);
    expect(agent?.args).toContain(
      "--container-runtime-endpoint=unix:///run/tug/tug-node-2/cri-docker.sock",
    );
    expect(agent?.args).toContain("--node-name=tug-node-2");
    expect(agent?.args).toContain("--server=127.0.0.1:6443");
  });

  it("puts each node's pods on its own Docker network and runs one proxy and DNS per host", () => {
    const plan = planCluster(base);
    const args = (name: string) => plan.components.find((c) => c.name === name)?.args ?? [];
    expect(args("cri-docker-tug-node-1")).toContain("--pod-network=tug-tug-node-1");
    expect(args("cri-docker-tug-node-2")).toContain("--pod-network=tug-tug-node-2");
    for (const agent of ["agent-tug-node-1", "agent-tug-node-2"]) {
      expect(args(agent)).toContain("--cluster-cidr=10.244.0.0/16");
      expect(args(agent)).toContain("--cluster-dns=10.96.0.10");
    }
    expect(args("controller-manager")).toContain("--cluster-cidr=10.244.0.0/16");
    expect(args("scheduler").some((a) => a.startsWith("--cluster-cidr"))).toBe(false);
    expect(args("agent-tug-node-1").filter((a) => /^--(proxy|dns)=/.test(a))).toEqual([]);
    expect(args("agent-tug-node-2")).toEqual(
      expect.arrayContaining(["--proxy=false", "--dns=false"]),
    );
  });

  it("orders components by stage: store, API server, control plane and runtimes, agents", () => {
    const plan = planCluster(base);
    const order = plan.components.map((c) => STAGES.indexOf(c.stage));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(plan.components.find((c) => c.binary === "tug-cri-docker")?.stage).toBe("control-plane");
  });

  it("derives different cluster ids (and so Docker instances) from different data dirs", () => {
    expect(clusterIdFor("/a")).not.toBe(clusterIdFor("/b"));
    expect(clusterIdFor("/a")).toMatch(/^[0-9a-f]{8}$/);
  });

  it("rejects agent counts outside 1..MAX_AGENTS, naming the flag", () => {
    expect(() => planCluster({ ...base, agents: 0 })).toThrow(/--agents 0/);
    expect(() => planCluster({ ...base, agents: MAX_AGENTS + 1 })).toThrow(CliError);
    expect(planCluster({ ...base, agents: MAX_AGENTS }).nodes).toEqual(nodeNames(MAX_AGENTS));
  });

  it("rejects a base port that pushes a port out of range", () => {
    expect(() => planCluster({ ...base, basePort: 40000 })).toThrow(/--base-port 40000/);
    expect(() => planCluster({ ...base, basePort: 100 })).toThrow(/--base-port 100/);
  });
});
