// The Node's NetworkUnavailable condition: reported only when the agent runs a node network,
// True (NoRouteCreated) until the pod network is up, then False (RouteCreated), with the
// transition time kept while the status stays the same.

import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { type NodeIdentity, nodeCapacity, nodeStatus } from "../src/node/node-object.js";

const id: NodeIdentity = {
  name: "n1",
  nodeIp: "192.0.2.2",
  port: 10250,
  maxPods: 110,
  rootDir: tmpdir(),
  labels: {},
  taints: [],
  reserved: {},
  runtimeVersion: "docker://20.10",
};

const networkCondition = (s: ReturnType<typeof nodeStatus>) =>
  s.conditions.find((c) => c.type === "NetworkUnavailable");

describe("NetworkUnavailable", () => {
  it("is absent without a node network, True until it is up, then False", () => {
    const capacity = nodeCapacity(id);
    const none = nodeStatus(id, capacity, [], { runtimeReady: true, runtimeMessage: "" }, 1000);
    expect(networkCondition(none)).toBeUndefined();

    const waiting = nodeStatus(
      id,
      capacity,
      [],
      { runtimeReady: true, runtimeMessage: "", podNetworkReady: false },
      2000,
    );
    expect(networkCondition(waiting)).toMatchObject({
      status: "True",
      reason: "NoRouteCreated",
    });

    const up = nodeStatus(
      id,
      capacity,
      waiting.conditions,
      { runtimeReady: true, runtimeMessage: "", podNetworkReady: true },
      5000,
    );
    expect(networkCondition(up)).toMatchObject({ status: "False", reason: "RouteCreated" });
    expect(networkCondition(up)?.lastTransitionTime?.seconds).toBe(5n);

    const later = nodeStatus(
      id,
      capacity,
      up.conditions,
      { runtimeReady: true, runtimeMessage: "", podNetworkReady: true },
      9000,
    );
    expect(networkCondition(later)?.lastTransitionTime?.seconds).toBe(5n);
    expect(networkCondition(later)?.lastHeartbeatTime?.seconds).toBe(9n);
  });
});
