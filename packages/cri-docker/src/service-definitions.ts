// CRI's runtime.v1.RuntimeService and runtime.v1.ImageService as grpc-js service definitions
// with protobuf-es binary serializers: the one definition both the server and CriClient use, so
// the method paths (/runtime.v1.RuntimeService/Version) and encodings cannot drift apart.

import {
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { ImageService, RuntimeService } from "./gen/cri/api_pb.js";

type AnyMessage = MessageShape<DescMessage>;

/** The grpc-js definition of one unary method. */
export function methodDefinition(method: DescMethod): MethodDefinition<AnyMessage, AnyMessage> {
  const input = method.input;
  const output = method.output;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b) => fromBinary(output, b),
    originalName: method.localName,
  };
}

function serviceDefinition(service: DescService): ServiceDefinition {
  return Object.fromEntries(service.methods.map((m) => [m.name, methodDefinition(m)]));
}

/** runtime.v1.RuntimeService for grpc-js, keyed by CRI's method names ("RunPodSandbox"). */
export const runtimeServiceDefinition: ServiceDefinition = serviceDefinition(RuntimeService);

/** runtime.v1.ImageService for grpc-js, keyed by CRI's method names ("PullImage"). */
export const imageServiceDefinition: ServiceDefinition = serviceDefinition(ImageService);
