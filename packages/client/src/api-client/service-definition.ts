// The tug API service (tug.apiserver.v1.Api) as a grpc-js service definition, with protobuf-es
// binary serializers: the one definition both tug-apiserver and ApiClient use, so the method
// paths and encodings cannot drift apart.

import {
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { apiv1 } from "./api-imports.js";

/**
 * The trailing metadata key holding the binary tug.meta.v1.Status of a failed call (grpc-js
 * treats a key ending in "-bin" as binary and base64-encodes it on the wire).
 */
export const STATUS_METADATA_KEY = "tug-status-bin";

/** The method names of the service, as its descriptor spells them ("Create", "Watch"). */
export type ApiMethodName = (typeof apiv1.Api.methods)[number]["name"];

function methodDefinition(
  method: DescMethod,
): MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>> {
  const input = method.input;
  const output = method.output;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream:
      method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream:
      method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (m) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b) => fromBinary(output, b),
    originalName: method.localName,
  };
}

/** tug.apiserver.v1.Api for grpc-js, keyed by the descriptor's method names ("Create"). */
export const apiServiceDefinition: ServiceDefinition = Object.fromEntries(
  apiv1.Api.methods.map((m) => [m.name, methodDefinition(m)]),
);
