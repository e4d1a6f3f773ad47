// How the API server keeps objects in etcd: each kind's binary protobuf (with apiVersion and
// kind filled in, as kube-apiserver stores them), resourceVersion kept as the key's revision.

import { type KindInfo, objectFromBinary, objectToBinary } from "@tug/api";
import { type ApiObject, metaOf } from "../registry/api-object.js";
import type { ObjectCodec } from "../storage/object-store.js";

/** The storage codec of one kind. */
export function objectCodecFor(kind: KindInfo): ObjectCodec<ApiObject> {
  return {
    encode: (obj) => objectToBinary(obj as Parameters<typeof objectToBinary>[0]),
    decode: (bytes) => objectFromBinary(kind, bytes) as unknown as ApiObject,
    resourceVersionOf: (obj) => obj.metadata?.resourceVersion ?? "",
    withResourceVersion: (obj, resourceVersion) => {
      metaOf(kind, obj).resourceVersion = resourceVersion;
      return obj;
    },
    uidOf: (obj) => obj.metadata?.uid ?? "",
  };
}
