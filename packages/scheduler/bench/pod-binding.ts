// What the scheduler bench's watch needs of a pod (its name, its resourceVersion and
// spec.nodeName), read from the pod's protobuf bytes without decoding the rest. Unpacking whole
// pods was a quarter of the bench process's CPU, which the bench takes from the 2 cores the
// processes it measures share; the watch itself (the real Watch call of the API server) is
// unchanged.
//
// Field numbers from proto/tug: Pod.metadata = 3, Pod.spec = 4 (core/v1/pod.proto);
// ObjectMeta.name = 1, ObjectMeta.resource_version = 6 (meta/v1/meta.proto);
// PodSpec.node_name = 12 (core/v1/pod.proto). Proto3 leaves an empty string out, and a field
// that occurs twice counts with its last value (the protobuf encoding's rule for scalars; for
// embedded messages the occurrences merge, which for these scalar fields comes to the same).

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

const POD_METADATA = 3;
const POD_SPEC = 4;
const META_NAME = 1;
const META_RESOURCE_VERSION = 6;
const SPEC_NODE_NAME = 12;

/** The fields of a pod that say which pod it is, which version, and where it is bound. */
export interface PodBinding {
  name: string;
  resourceVersion: string;
  /** "" while the pod is not bound. */
  nodeName: string;
}

/** Reads a PodBinding from the bytes of a tug.core.v1.Pod; throws on malformed bytes. */
export function readPodBinding(bytes: Uint8Array): PodBinding {
  const binding: PodBinding = { name: "", resourceVersion: "", nodeName: "" };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === POD_METADATA && wireType === WireType.LengthDelimited) {
      const end = reader.uint32() + reader.pos;
      while (reader.pos < end) {
        const [f, w] = reader.tag();
        if (f === META_NAME && w === WireType.LengthDelimited) binding.name = reader.string();
        else if (f === META_RESOURCE_VERSION && w === WireType.LengthDelimited) {
          binding.resourceVersion = reader.string();
        } else reader.skip(w, f);
      }
    } else if (field === POD_SPEC && wireType === WireType.LengthDelimited) {
      const end = reader.uint32() + reader.pos;
      while (reader.pos < end) {
        const [f, w] = reader.tag();
        if (f === SPEC_NODE_NAME && w === WireType.LengthDelimited)
          binding.nodeName = reader.string();
        else reader.skip(w, f);
      }
    } else {
      reader.skip(wireType, field);
    }
  }
  return binding;
}
