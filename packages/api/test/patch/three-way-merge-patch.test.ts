import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/patch/json-value.js";
import { applyMergePatch } from "../../src/patch/merge-patch.js";
import { createThreeWayMergePatch } from "../../src/patch/three-way-merge-patch.js";
import { mulberry32, mutate, randomDocument } from "./random-json.js";

const parse = (text: string): JsonValue => JSON.parse(text) as JsonValue;

describe("createThreeWayMergePatch (kubectl apply)", () => {
  const lastApplied = parse(
    '{"metadata":{"name":"web","labels":{"app":"web","tier":"fe"}},"spec":{"replicas":2,"paused":false}}',
  );
  const live = parse(
    '{"metadata":{"name":"web","uid":"u1","labels":{"app":"web","tier":"fe","owner":"ops"}},"spec":{"replicas":5,"paused":false,"revisionHistoryLimit":10},"status":{"replicas":5}}',
  );
  const manifest = parse(
    '{"metadata":{"name":"web","labels":{"app":"web","env":"prod"}},"spec":{"replicas":2}}',
  );

  it("deletes what the manifest dropped, resets what drifted, keeps what only the cluster wrote", () => {
    const patch = createThreeWayMergePatch(lastApplied, manifest, live);
    expect(patch).toEqual({
      metadata: { labels: { env: "prod", tier: null } },
      spec: { replicas: 2, paused: null },
    });
    expect(applyMergePatch(live, patch)).toEqual({
      metadata: { name: "web", uid: "u1", labels: { app: "web", owner: "ops", env: "prod" } },
      spec: { replicas: 2, revisionHistoryLimit: 10 },
      status: { replicas: 5 },
    });
  });

  it("deletes nothing on a first apply (no last-applied manifest)", () => {
    const patch = createThreeWayMergePatch(null, manifest, live);
    expect(patch).toEqual({ metadata: { labels: { env: "prod" } }, spec: { replicas: 2 } });
  });

  it("patches only the drift when the same manifest is applied again, then nothing", () => {
    expect(createThreeWayMergePatch(manifest, manifest, live)).toEqual({
      metadata: { labels: { env: "prod" } },
      spec: { replicas: 2 },
    });
    const converged = applyMergePatch(live, createThreeWayMergePatch(lastApplied, manifest, live));
    expect(createThreeWayMergePatch(manifest, manifest, converged)).toEqual({});
  });

  it("turns the last-applied object into the new manifest when nothing else wrote (seeded)", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const rng = mulberry32(seed);
      const original = randomDocument(rng, 3);
      const modified = mutate(rng, original, 3);
      const patch = createThreeWayMergePatch(original, modified, original);
      expect(applyMergePatch(original, patch), `seed ${seed}`).toEqual(modified);
    }
  });

  it("replaces a member whose type changed and arrays whole", () => {
    const patch = createThreeWayMergePatch(
      parse('{"a":{"x":1,"y":1},"list":[1,2]}'),
      parse('{"a":{"x":1},"list":[3]}'),
      parse('{"a":"text","list":[1,2]}'),
    );
    expect(applyMergePatch(parse('{"a":"text","list":[1,2]}'), patch)).toEqual({
      a: { x: 1 },
      list: [3],
    });
  });

  it("mutates none of its inputs", () => {
    const inputs = [lastApplied, manifest, live];
    const before = JSON.stringify(inputs);
    const patch = createThreeWayMergePatch(lastApplied, manifest, live) as { spec: object };
    expect(patch.spec).not.toBe((manifest as { spec: object }).spec);
    expect(JSON.stringify(inputs)).toBe(before);
  });
});
