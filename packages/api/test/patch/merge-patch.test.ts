import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/patch/json-value.js";
import { applyMergePatch, createMergePatch } from "../../src/patch/merge-patch.js";
import { mulberry32, mutate, randomDocument } from "./random-json.js";

// RFC 7386 Appendix A: original, patch, result.
const RFC_7386_EXAMPLES: [string, string, string][] = [
  ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
  ['{"a":"b"}', '{"a":null}', "{}"],
  ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
  ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
  ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
  ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
  ['["a","b"]', '["c","d"]', '["c","d"]'],
  ['{"a":"b"}', '["c"]', '["c"]'],
  ['{"a":"foo"}', "null", "null"],
  ['{"a":"foo"}', '"bar"', '"bar"'],
  ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
  ["[1,2]", '{"a":"b","c":null}', '{"a":"b"}'],
  ["{}", '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
];

const parse = (text: string): JsonValue => JSON.parse(text) as JsonValue;

describe("applyMergePatch (RFC 7386)", () => {
  it.each(RFC_7386_EXAMPLES)("%s + %s = %s", (original, patch, result) => {
    expect(applyMergePatch(parse(original), parse(patch))).toEqual(parse(result));
  });

  it("applies the example of RFC 7386 section 3", () => {
    const target = parse(`{
      "title": "Goodbye!",
      "author": { "givenName": "John", "familyName": "Doe" },
      "tags": ["example", "sample"],
      "content": "This will be unchanged"
    }`);
    const patch = parse(`{
      "title": "Hello!",
      "phoneNumber": "+01-123-456-7890",
      "author": { "familyName": null },
      "tags": ["example"]
    }`);
    expect(applyMergePatch(target, patch)).toEqual({
      title: "Hello!",
      author: { givenName: "John" },
      tags: ["example"],
      content: "This will be unchanged",
      phoneNumber: "+01-123-456-7890",
    });
  });

  it("mutates neither input and shares nothing with them", () => {
    const target = parse('{"spec":{"replicas":1,"ports":[80]},"keep":{"x":1}}');
    const patch = parse('{"spec":{"replicas":3,"ports":[443]},"new":{"y":2}}');
    const before = JSON.stringify([target, patch]);
    const result = applyMergePatch(target, patch) as {
      keep: object;
      new: object;
      spec: { ports: number[] };
    };
    expect(JSON.stringify([target, patch])).toBe(before);
    expect(result.keep).not.toBe((target as { keep: object }).keep);
    expect(result.new).not.toBe((patch as { new: object }).new);
    result.spec.ports.push(1);
    expect(JSON.stringify([target, patch])).toBe(before);
  });

  it('treats "__proto__" and "constructor" as ordinary members', () => {
    const result = applyMergePatch(
      parse('{"constructor":1}'),
      parse('{"__proto__":{"polluted":true}}'),
    );
    expect(Object.keys(result as object).sort()).toEqual(["__proto__", "constructor"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });
});

describe("createMergePatch", () => {
  it("gives null for removed members, nested patches for changed objects, whole arrays", () => {
    const original = parse(
      '{"metadata":{"name":"web","labels":{"app":"web","tier":"fe"}},"spec":{"replicas":1,"ports":[80,443]},"old":true}',
    );
    const modified = parse(
      '{"metadata":{"name":"web","labels":{"app":"web","env":"prod"}},"spec":{"replicas":3,"ports":[80]}}',
    );
    expect(createMergePatch(original, modified)).toEqual({
      old: null,
      metadata: { labels: { tier: null, env: "prod" } },
      spec: { replicas: 3, ports: [80] },
    });
  });

  it("gives {} for equal documents, whatever the member order", () => {
    expect(
      createMergePatch(parse('{"a":1,"b":{"c":[1,2]}}'), parse('{"b":{"c":[1,2]},"a":1}')),
    ).toEqual({});
  });

  it("replaces whole when either side is not an object", () => {
    expect(createMergePatch(parse("[1]"), parse('{"a":1}'))).toEqual({ a: 1 });
    expect(createMergePatch(parse('{"a":1}'), parse("[1]"))).toEqual([1]);
    expect(createMergePatch(parse('{"a":{"b":1}}'), parse('{"a":"x"}'))).toEqual({ a: "x" });
    expect(createMergePatch(parse('{"a":"x"}'), parse('{"a":{"b":1}}'))).toEqual({ a: { b: 1 } });
  });

  it("round-trips: applying the patch to the original gives the modified document (seeded)", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const rng = mulberry32(seed);
      const original = randomDocument(rng, 3);
      const modified = mutate(rng, original, 3);
      const patch = createMergePatch(original, modified);
      expect(applyMergePatch(original, patch), `seed ${seed}`).toEqual(modified);
    }
  });
});
