// NodeNetworkController against a real tug-apiserver: it waits for this node's podCIDR, then
// routes every peer's podCIDR via its InternalIP, and follows a peer's changes. Host commands
// are recorded by a fake (the real ones are exercised in netns-cluster.test.ts).

import { clone, create } from "@bufbuild/protobuf";
import {
  type Node,
  NodeAddressSchema,
  NodeSchema,
  NodeSpecSchema,
  NodeStatusSchema,
} from "@tug/api";
import type { ApiClient } from "@tug/client";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { HostCommand } from "../../src/network/host-command.js";
import { NodeNetworkController } from "../../src/network/node-network-controller.js";
import { startControlPlane } from "../control-plane.js";

const commands: string[] = [];
const fakeHost: HostCommand = async (argv) => {
  commands.push(argv.join(" "));
  if (argv[1] === "-V") return "iptables v1.8.9 (nf_tables)\n";
  if (argv.includes("-C")) throw new Error("rule not found");
  return "";
};

let closeAll: () => Promise<void> = async () => {};
let client: ApiClient;

beforeAll(async () => {
  const plane = await startControlPlane("network-test");
  client = plane.client;
  closeAll = plane.close;
}, 60_000);

afterAll(async () => {
  await closeAll();
});

async function putNode(name: string, podCidr: string, ip: string): Promise<Node> {
  const existing = await client.get(NodeSchema, name).catch(() => undefined);
  const node =
    existing ??
    (await client.create(NodeSchema, create(NodeSchema, { metadata: { name }, spec: {} })));
  const next = clone(NodeSchema, node);
  next.spec = create(NodeSpecSchema, { podCidr });
  const withSpec = await client.update(NodeSchema, next);
  const status = clone(NodeSchema, withSpec);
  status.status = create(NodeStatusSchema, {
    addresses: [create(NodeAddressSchema, { type: "InternalIP", address: ip })],
  });
  return client.updateStatus(NodeSchema, status);
}

async function eventually(check: () => void, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

it("applies once the node has a podCIDR and follows peers", async () => {
  const controller = new NodeNetworkController({
    client,
    nodeName: "self",
    clusterCidr: "10.244.0.0/16",
    run: fakeHost,
    dockerSocket: false,
  });
  try {
    await putNode("peer", "10.244.2.0/24", "192.168.0.2");
    await controller.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(controller.spec).toBeUndefined(); // "self" has no podCIDR yet
    await putNode("self", "10.244.1.0/24", "192.168.0.1");
    const spec = await controller.ready();
    expect(spec.peers).toEqual([{ name: "peer", podCidr: "10.244.2.0/24", nodeIp: "192.168.0.2" }]);
    expect(controller.gateway()).toBe("10.244.1.1");
    expect(commands).toContain("ip route replace 10.244.2.0/24 via 192.168.0.2 proto 77");
    await putNode("peer", "10.244.2.0/24", "192.168.0.22");
    await eventually(() =>
      expect(commands).toContain("ip route replace 10.244.2.0/24 via 192.168.0.22 proto 77"),
    );
  } finally {
    await controller.stop();
  }
});
