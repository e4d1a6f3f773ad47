// The cluster controllers as tug-controller-manager runs them (ControllerManager, all
// controllers enabled, settings passed through): a new namespace gets its default account, a
// node its pod CIDR from the configured cluster CIDR, and a deleted namespace goes away.

import { create } from "@bufbuild/protobuf";
import { NamespaceSchema, NodeSchema, ServiceAccountSchema } from "@tug/api";
import { isApiError } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ControllerManager } from "../../src/index.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let manager: ControllerManager | undefined;

beforeEach(async () => {
  cluster = await startCluster();
});

afterEach(async () => {
  await manager?.stop();
  await cluster?.stop();
});

it("runs the cluster controllers with the given settings", async () => {
  const { client } = cluster;
  manager = new ControllerManager({
    servers: [cluster.address],
    leaderElect: false,
    cluster: { clusterCidr: "10.20.0.0/16", nodeCidrMaskSize: 24 },
  });
  manager.start();
  await client.create(
    NamespaceSchema,
    create(NamespaceSchema, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }),
  );
  await client.create(
    NodeSchema,
    create(NodeSchema, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } }),
  );
  await eventually("default account in team", async () => {
    try {
      await client.get(ServiceAccountSchema, "default", { namespace: "team" });
      return true;
    } catch (error) {
      if (isApiError(error, "NotFound")) return false;
      throw error;
    }
  });
  await eventually("n1 has a pod CIDR", async () => {
    return ((await client.get(NodeSchema, "n1")).spec?.podCidr ?? "") !== "";
  });
  expect((await client.get(NodeSchema, "n1")).spec?.podCidr).toBe("10.20.0.0/24");
  await client.delete(NamespaceSchema, "team");
  await eventually("namespace team removed with its account", async () => {
    try {
      await client.get(NamespaceSchema, "team");
      return false;
    } catch (error) {
      if (isApiError(error, "NotFound")) return true;
      throw error;
    }
  });
}, 60_000);
