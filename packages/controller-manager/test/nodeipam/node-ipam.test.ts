// Node IPAM end to end against a real tug-apiserver: each node gets its own /24 of the cluster
// CIDR; a range a node already holds is never given to another; a deleted node's range is free
// again; when every range is taken the node waits.

import { create } from "@bufbuild/protobuf";
import { type Node, NodeSchema } from "@tug/api";
import { afterEach, beforeEach, expect, it } from "vitest";
import { NO_EVENTS } from "../../src/index.js";
import { NodeIpamController } from "../../src/nodeipam/node-ipam-controller.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
});

afterEach(async () => {
  await controllers?.stop();
  await cluster?.stop();
});

function node(name: string, podCidr?: string): Node {
  return create(NodeSchema, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    ...(podCidr === undefined ? {} : { spec: { podCidr, podCidrs: [podCidr] } }),
  });
}

it("gives every node a distinct pod CIDR and keeps the ones nodes already hold", async () => {
  const { client } = cluster;
  // Held before the controller starts: must not be handed out again.
  await client.create(NodeSchema, node("old", "10.10.1.0/24"));
  controllers = await runControllers(cluster.address, ({ api, nodes }) => [
    new NodeIpamController({
      api,
      nodes,
      recorder: NO_EVENTS,
      clusterCidr: "10.10.0.0/22",
      nodeCidrMaskSize: 24,
    }),
  ]);
  for (const name of ["n1", "n2", "n3"]) await client.create(NodeSchema, node(name));
  const cidrs = async () => {
    const list = await client.list(NodeSchema);
    return new Map(list.items.map((n) => [n.metadata?.name ?? "", n.spec?.podCidr ?? ""]));
  };
  await eventually("every node has a pod CIDR", async () =>
    [...(await cidrs()).values()].every((c) => c !== ""),
  );
  const got = await cidrs();
  expect(got.get("old")).toBe("10.10.1.0/24");
  expect(new Set(got.values()).size).toBe(4);
  expect([...got.values()].sort()).toEqual([
    "10.10.0.0/24",
    "10.10.1.0/24",
    "10.10.2.0/24",
    "10.10.3.0/24",
  ]);
  for (const n of (await client.list(NodeSchema)).items) {
    expect(n.spec?.podCidrs).toEqual([n.spec?.podCidr]);
  }

  // Full: a fifth node waits until a range is freed by a deletion.
  await client.create(NodeSchema, node("n4"));
  await new Promise((r) => setTimeout(r, 300));
  expect((await client.get(NodeSchema, "n4")).spec?.podCidr ?? "").toBe("");
  const freed = got.get("n2");
  await client.delete(NodeSchema, "n2");
  await eventually("n4 gets the range n2 had", async () => {
    return (await client.get(NodeSchema, "n4")).spec?.podCidr === freed;
  });
}, 60_000);
