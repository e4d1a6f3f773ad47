// objectToJson writes the zero values Kubernetes always writes, and only those.

import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReplicaSetSchema } from "../../src/gen/tug/apps/v1/replica_set_pb.js";
import { PodSchema } from "../../src/gen/tug/core/v1/pod_pb.js";
import { objectToJson } from "../../src/scheme/object-codec.js";

describe("always-written zero values", () => {
  it("writes a not-ready container's ready and restartCount", () => {
    const pod = create(PodSchema, {
      metadata: { name: "p" },
      status: { phase: "Pending", containerStatuses: [{ name: "app", image: "busybox" }] },
    });
    expect(objectToJson(pod)).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      status: {
        phase: "Pending",
        containerStatuses: [
          { name: "app", image: "busybox", imageID: "", ready: false, restartCount: 0 },
        ],
      },
    });
  });

  it("writes a scaled-down replica set's replicas: 0, but not unset optional fields", () => {
    const rs = create(ReplicaSetSchema, { metadata: { name: "r" }, spec: {}, status: {} });
    expect(objectToJson(rs)).toEqual({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "r" },
      spec: {},
      status: { replicas: 0 },
    });
  });
});
