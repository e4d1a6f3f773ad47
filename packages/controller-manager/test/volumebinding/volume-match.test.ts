// findMatchingVolume and mismatch without a cluster: class, access modes, volume mode, selector,
// capacity, pre-binding, and the smallest fit.

import { create } from "@bufbuild/protobuf";
import {
  type PersistentVolume,
  PersistentVolumeClaimSchema,
  PersistentVolumeSchema,
} from "@tug/api";
import { expect, it } from "vitest";
import { findMatchingVolume, mismatch } from "../../src/volumebinding/volume-match.js";

function pv(name: string, size: string, extra: Record<string, unknown> = {}, labels = {}) {
  return create(PersistentVolumeSchema, {
    metadata: { name, labels },
    spec: { capacity: { storage: size }, accessModes: ["ReadWriteOnce"], ...extra },
  });
}

const claim = (size: string, extra: Record<string, unknown> = {}) =>
  create(PersistentVolumeClaimSchema, {
    metadata: { name: "data", namespace: "ns", uid: "claim-uid" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, ...extra },
  });

const names = (v: PersistentVolume | undefined) => v?.metadata?.name;

it("picks the smallest volume that fits, then by name", () => {
  const volumes = [pv("b-10g", "10Gi"), pv("a-2g", "2Gi"), pv("c-2g", "2048Mi"), pv("tiny", "1Gi")];
  expect(names(findMatchingVolume(claim("1500Mi"), volumes))).toBe("a-2g");
  expect(names(findMatchingVolume(claim("11Gi"), volumes))).toBeUndefined();
});

it("says why a volume does not fit", () => {
  expect(mismatch(pv("v", "5Gi", { storageClassName: "fast" }), claim("1Gi"))).toBe(
    "storageClassName does not match",
  );
  expect(mismatch(pv("v", "5Gi", { accessModes: ["ReadOnlyMany"] }), claim("1Gi"))).toBe(
    "accessModes do not match",
  );
  expect(mismatch(pv("v", "5Gi", { volumeMode: "Block" }), claim("1Gi"))).toBe(
    "volumeMode does not match",
  );
  expect(mismatch(pv("v", "1Gi"), claim("2Gi"))).toBe("capacity is too small");
  const selective = claim("1Gi", { selector: { matchLabels: { tier: "gold" } } });
  expect(mismatch(pv("v", "5Gi", {}, { tier: "silver" }), selective)).toBe(
    "labels do not match the claim's selector",
  );
  expect(mismatch(pv("v", "5Gi", {}, { tier: "gold" }), selective)).toBeUndefined();
});

it("prefers a volume pre-bound to the claim and skips volumes bound to others", () => {
  const preBound = pv("pre", "50Gi", { claimRef: { namespace: "ns", name: "data" } });
  const other = pv("other", "1Gi", { claimRef: { namespace: "ns", name: "logs", uid: "x" } });
  const free = pv("free", "5Gi");
  expect(names(findMatchingVolume(claim("1Gi"), [free, other, preBound]))).toBe("pre");
  expect(names(findMatchingVolume(claim("1Gi"), [free, other]))).toBe("free");
  const wrongUid = pv("stale", "1Gi", { claimRef: { namespace: "ns", name: "data", uid: "old" } });
  expect(names(findMatchingVolume(claim("1Gi"), [wrongUid]))).toBeUndefined();
});
