// A tiny codec for storage tests: objects as JSON, Kubernetes-shaped metadata.

import type { ObjectCodec } from "../../src/storage/object-store.js";

export interface TestObject {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
  };
  spec: { value: number; note?: string };
}

export const jsonCodec: ObjectCodec<TestObject> = {
  encode: (obj) => Buffer.from(JSON.stringify(obj), "utf8"),
  decode: (bytes) => JSON.parse(Buffer.from(bytes).toString("utf8")) as TestObject,
  resourceVersionOf: (obj) => obj.metadata.resourceVersion,
  withResourceVersion: (obj, resourceVersion) => ({
    ...obj,
    metadata: { ...obj.metadata, resourceVersion },
  }),
  uidOf: (obj) => obj.metadata.uid,
};

export function testObject(
  name: string,
  value: number,
  options: { namespace?: string; labels?: Record<string, string>; uid?: string } = {},
): TestObject {
  return {
    metadata: {
      name,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      uid: options.uid ?? `uid-${name}`,
      resourceVersion: "",
      ...(options.labels === undefined ? {} : { labels: options.labels }),
    },
    spec: { value },
  };
}
