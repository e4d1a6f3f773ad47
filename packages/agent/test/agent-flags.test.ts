// tug-agent's flags: kubelet names, env vars under TUG_AGENT_, defaults, and errors that name
// the flag and the fix.

import { describe, expect, it } from "vitest";
import {
  parseAgentFlags as parse,
  parseDurationMs,
  parseTaints,
} from "../src/process/agent-flags.js";

/** The settings of `argv` and `env`; a bad value throws. */
function parseAgentFlags(argv: readonly string[], env: Record<string, string>) {
  const r = parse(argv, { env, readFile: (p) => files[p] ?? "" });
  if (r.kind !== "run") throw new Error(`exit ${r.code}: ${r.output}`);
  return r.settings;
}

const files: Record<string, string> = {
  "/etc/tug/agent.yaml": "node-name: from-file\nmax-pods: 30\nproxy: false\n",
};

describe("parseAgentFlags", () => {
  it("reads flags, falls back to env vars, and keeps the kubelet's defaults", () => {
    const s = parseAgentFlags(
      [
        "--node-name",
        "n1",
        "--node-labels",
        "zone=a,gpu",
        "--register-with-taints",
        "dedicated=db:NoSchedule",
        "--kube-reserved",
        "cpu=100m,memory=100Mi",
        "--system-reserved=memory=156Mi",
      ],
      {
        TUG_AGENT_SERVER: "10.0.0.1:6443,10.0.0.2:6443",
        TUG_AGENT_NODE_NAME: "ignored",
        TUG_AGENT_MAX_PODS: "50",
      },
    );
    expect(s.agent).toMatchObject({
      nodeName: "n1",
      servers: ["10.0.0.1:6443", "10.0.0.2:6443"],
      runtimeEndpoint: "unix:///run/tug/cri-docker.sock",
      port: 10250,
      maxPods: 50,
      nodeLabels: { zone: "a", gpu: "" },
      reserved: { cpu: "100m", memory: "256Mi" },
      nodeStatusUpdateMs: 10_000,
      nodeLeaseDurationSeconds: 40,
      maxDeadContainersPerContainer: 1,
    });
    expect(s.agent.registerWithTaints?.map((t) => [t.key, t.value, t.effect])).toEqual([
      ["dedicated", "db", "NoSchedule"],
    ]);
    expect(s.podInfraContainerImage).toBe("tug/pause:latest");
  });

  it("rejects bad values naming the flag", () => {
    expect(() => parseTaints("key=value")).toThrow(
      /--register-with-taints: "key=value" is not key\[=value\]:Effect/,
    );
    expect(() => parseDurationMs("node-status-update-frequency", "10")).toThrow(
      /--node-status-update-frequency: "10" is not a duration/,
    );
    expect(() => parseAgentFlags(["--max-pods", "0"], {})).toThrow(
      /--max-pods: "0" must be an integer >= 1/,
    );
    expect(() => parseAgentFlags(["--kube-reserved", "cpu=lots"], {})).toThrow(
      /--kube-reserved: cpu=lots is not a quantity/,
    );
    expect(parseDurationMs("x", "1m30s")).toBe(90_000);
  });

  it("defaults to the node network with proxy and DNS, and reads --network-mode, --proxy, --dns", () => {
    const d = parseAgentFlags([], {});
    expect(d.agent.clusterDns).toEqual(["10.96.0.10"]);
    expect(d.agent.clusterDomain).toBe("cluster.local");
    expect(d.agent.networking).toEqual({
      mode: "bridge",
      clusterCidr: "10.244.0.0/16",
      proxy: true,
      dns: true,
    });
    expect(d.cleanup).toBe(false);
    const s = parseAgentFlags(
      ["--proxy=false", "--dns", "false", "--cluster-cidr=10.200.0.0/16", "--cleanup"],
      { TUG_AGENT_NETWORK_MODE: "none", TUG_AGENT_CLUSTER_DNS: "" },
    );
    expect(s.agent.networking).toEqual({
      mode: "none",
      clusterCidr: "10.200.0.0/16",
      proxy: false,
      dns: false,
    });
    expect(s.agent.clusterDns).toEqual([]);
    expect(s.cleanup).toBe(true);
    expect(parseAgentFlags(["--proxy"], {}).agent.networking?.proxy).toBe(true);
  });

  it("rejects bad networking flags naming the flag", () => {
    expect(() => parseAgentFlags(["--proxy=no"], {})).toThrow(
      /--proxy: "no" must be true or false/,
    );
    expect(() => parseAgentFlags(["--cluster-cidr", "10.244.0.0"], {})).toThrow(
      /--cluster-cidr: "10.244.0.0" is not an IPv4 CIDR/,
    );
    expect(() => parseAgentFlags(["--network-mode", "overlay"], {})).toThrow(/overlay/);
    expect(() => parseAgentFlags([], { TUG_AGENT_NODE_NAM: "x" })).toThrow(
      /TUG_AGENT_NODE_NAM in the environment is not a tug-agent setting \(did you mean TUG_AGENT_NODE_NAME\?\)/,
    );
  });

  it("reads the --config file below the environment and the flags", () => {
    const s = parseAgentFlags(["--config", "/etc/tug/agent.yaml", "--max-pods=40"], {
      TUG_AGENT_PROXY: "true",
    });
    expect(s.agent.nodeName).toBe("from-file");
    expect(s.agent.maxPods).toBe(40);
    expect(s.agent.networking?.proxy).toBe(true);
    expect(parse(["--help"], { env: {} })).toMatchObject({ kind: "exit", code: 0 });
    expect(parse(["--nope"], { env: {} })).toMatchObject({ kind: "exit", code: 2 });
  });
});
