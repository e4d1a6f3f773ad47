// tug-agent's flags: kubelet names, env vars under TUG_AGENT_, defaults, and errors that name
// the flag and the fix.

import { describe, expect, it } from "vitest";
import { parseAgentFlags, parseDurationMs, parseTaints } from "../src/process/agent-flags.js";

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
});
