// readPodBinding (the scheduler bench's watch) against protobuf-es: the same name,
// resourceVersion and nodeName as a full decode, for pods with and without a node and with the
// fields around them set.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PodSchema, PodStatusSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { readPodBinding } from "../../bench/pod-binding.js";
import { benchPod, SMALL_REQUESTS, seeded } from "../../bench/workload.js";

describe("readPodBinding", () => {
  it("reads what a full decode reads, from every bench pod shape, bound and unbound", () => {
    const random = seeded(7);
    for (let i = 0; i < 200; i++) {
      const pod = benchPod(i, { namespace: "default", requests: SMALL_REQUESTS, random });
      if (pod.metadata === undefined || pod.spec === undefined) throw new Error("no meta/spec");
      pod.metadata.resourceVersion = String(1000 + i);
      pod.metadata.uid = `uid-${i}`;
      if (i % 2 === 0) pod.spec.nodeName = `node-${i}`;
      pod.status = create(PodStatusSchema, { phase: "Pending", nominatedNodeName: "nor-this" });
      const bytes = toBinary(PodSchema, pod);
      const full = fromBinary(PodSchema, bytes);
      expect(readPodBinding(bytes)).toEqual({
        name: full.metadata?.name,
        resourceVersion: full.metadata?.resourceVersion,
        nodeName: full.spec?.nodeName,
      });
    }
  });

  it("gives empty strings for fields the pod leaves out, and throws on cut bytes", () => {
    expect(readPodBinding(toBinary(PodSchema, create(PodSchema, {})))).toEqual({
      name: "",
      resourceVersion: "",
      nodeName: "",
    });
    const bytes = toBinary(
      PodSchema,
      create(PodSchema, { metadata: { name: "web" }, spec: { nodeName: "n1" } }),
    );
    expect(() => readPodBinding(bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});
