// pod-template-hash: FNV-1a, Kubernetes' safe encoding, and stability of the hash.

import { create } from "@bufbuild/protobuf";
import { type PodTemplateSpec, PodTemplateSpecSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  fnv32a,
  SAFE_ENCODING_ALPHABET,
  safeEncodeString,
} from "../../src/deployment/pod-template-hash.js";
import {
  computePodTemplateHash,
  equalIgnoreHash,
  POD_TEMPLATE_HASH_LABEL,
} from "../../src/index.js";

function template(labels: Record<string, string>, image = "busybox:1"): PodTemplateSpec {
  return create(PodTemplateSpecSchema, {
    metadata: { labels },
    spec: { containers: [{ name: "main", image }] },
  });
}

describe("FNV-1a 32 and safe encoding", () => {
  it("matches the FNV-1a test vectors", () => {
    const enc = (s: string) => fnv32a(new TextEncoder().encode(s));
    expect(enc("")).toBe(0x811c9dc5);
    expect(enc("a")).toBe(0xe40c292c);
    expect(enc("foobar")).toBe(0xbf9cf968);
  });

  it("maps characters as Kubernetes' rand.SafeEncodeString (decimal digits → 4-9, b, c, d, f)", () => {
    expect(safeEncodeString("1234")).toBe("5678");
    expect(safeEncodeString("0123456789")).toBe("456789bcdf");
    expect(SAFE_ENCODING_ALPHABET).toHaveLength(27);
  });
});

describe("computePodTemplateHash", () => {
  it("is a fixed value for a fixed template: stable across processes and releases", () => {
    // Golden value: changing the hash would make every Deployment roll after an upgrade.
    expect(computePodTemplateHash(template({ app: "web" }))).toBe("69f84bbf57");
  });

  it("does not depend on the order labels were inserted in", () => {
    const a = template({ app: "web", tier: "front" });
    const b = template({ tier: "front", app: "web" });
    expect(computePodTemplateHash(a)).toBe(computePodTemplateHash(b));
  });

  it("changes with the template and with collisionCount", () => {
    const base = computePodTemplateHash(template({ app: "web" }));
    expect(computePodTemplateHash(template({ app: "web" }, "busybox:2"))).not.toBe(base);
    expect(computePodTemplateHash(template({ app: "web" }), 1)).not.toBe(base);
    expect(computePodTemplateHash(template({ app: "web" }), 0)).not.toBe(base);
  });

  it("uses only the safe alphabet", () => {
    for (let i = 0; i < 50; i++) {
      expect(computePodTemplateHash(template({ app: `a${i}` }))).toMatch(
        /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/,
      );
    }
  });
});

describe("equalIgnoreHash", () => {
  it("ignores only the pod-template-hash label", () => {
    const d = template({ app: "web" });
    expect(equalIgnoreHash(d, template({ app: "web", [POD_TEMPLATE_HASH_LABEL]: "abc" }))).toBe(
      true,
    );
    expect(equalIgnoreHash(d, template({ app: "web", other: "x" }))).toBe(false);
    expect(equalIgnoreHash(d, template({ app: "web" }, "busybox:2"))).toBe(false);
  });
});
