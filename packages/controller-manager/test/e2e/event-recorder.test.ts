// ApiEventRecorder against a real tug-apiserver: a repeated event is one Event with a count.

import { create } from "@bufbuild/protobuf";
import { EventSchema, ObjectMetaSchema } from "@tug/api";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ApiEventRecorder } from "../../src/index.js";
import { type Cluster, startCluster } from "../support/cluster.js";

let cluster: Cluster;

beforeEach(async () => {
  cluster = await startCluster();
});

afterEach(async () => {
  await cluster?.stop();
});

it("aggregates repeats into one Event by bumping count and lastTimestamp", async () => {
  let now = new Date("2026-03-01T10:00:00Z");
  const recorder = new ApiEventRecorder({
    api: cluster.client,
    component: "deployment-controller",
    now: () => now,
  });
  const obj = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: create(ObjectMetaSchema, { name: "web", namespace: "default", uid: "u-1" }),
  };
  recorder.event(obj, "Warning", "SelectingAll", "This deployment is selecting all pods.");
  now = new Date("2026-03-01T10:00:05Z");
  recorder.event(obj, "Warning", "SelectingAll", "This deployment is selecting all pods.");
  recorder.event(obj, "Normal", "ScalingReplicaSet", "Scaled up replica set web-abc to 1 from 0");
  await recorder.flush();
  const events = (await cluster.client.list(EventSchema, { namespace: "default" })).items;
  expect(events).toHaveLength(2);
  const selecting = events.find((e) => e.reason === "SelectingAll");
  expect(selecting).toMatchObject({ count: 2, type: "Warning" });
  expect(Number(selecting?.lastTimestamp?.seconds)).toBe(now.getTime() / 1000);
  expect(Number(selecting?.firstTimestamp?.seconds)).toBe(now.getTime() / 1000 - 5);
  expect(events.find((e) => e.reason === "ScalingReplicaSet")?.count).toBe(1);
});
