// Objects exported from a Kubernetes cluster with `kubectl get -o yaml` apply unchanged: every
// field they carry is known (round-trip.test.ts checks that their JSON comes back whole).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { NodeSchema } from "../../src/gen/tug/core/v1/node_pb.js";
import { PodSchema } from "../../src/gen/tug/core/v1/pod_pb.js";
import { parseManifests } from "../../src/scheme/manifest.js";
import { objectToJson } from "../../src/scheme/object-codec.js";

const dir = join(import.meta.dirname, "..", "fixtures", "exported");

describe("objects exported from Kubernetes", () => {
  it("parses a pod with its defaults, token volume, managedFields and status", () => {
    const [pod] = parseManifests(readFileSync(join(dir, "pod.yaml"), "utf8"));
    const message = pod?.object;
    if (!isMessage(message, PodSchema)) throw new Error("not a Pod");
    expect(message.metadata?.managedFields[0]?.manager).toBe("kube-controller-manager");
    expect(message.spec?.volumes[0]?.projected?.defaultMode).toBe(420);
    expect(message.spec?.priority).toBe(0);
    expect(message.status?.containerStatuses[0]?.volumeMounts[0]?.recursiveReadOnly).toBe(
      "Disabled",
    );
    const json = objectToJson(message) as {
      status: { containerStatuses: Record<string, unknown>[] };
    };
    // A zero that proto3 JSON omits and Kubernetes writes.
    expect(json.status.containerStatuses[0]?.restartCount).toBe(0);
    expect(json.status.containerStatuses[0]?.ready).toBe(true);
  });

  it("parses a node with runtime handlers and features", () => {
    const [node] = parseManifests(readFileSync(join(dir, "node.yaml"), "utf8"));
    const message = node?.object;
    if (!isMessage(message, NodeSchema)) throw new Error("not a Node");
    expect(message.status?.daemonEndpoints?.kubeletEndpoint?.port).toBe(10250);
    expect(message.status?.runtimeHandlers.map((h) => h.name)).toEqual(["runc", ""]);
    expect(message.status?.nodeInfo?.systemUuid).toBe("01234567-89ab-cdef-0123-456789abcdef");
    expect(message.status?.images[0]?.sizeBytes).toBe(72955450);
  });
});
