// Objects on the wire travel as google.protobuf.Any; unpacking needs the scheme's registry.

import type { Message } from "@bufbuild/protobuf";
import { type Any, anyUnpack } from "@bufbuild/protobuf/wkt";
import { status as grpcStatus } from "@grpc/grpc-js";
import { apiRegistry } from "@tug/api";
import { ApiError } from "./api-error.js";

/** Unpacks an object the server sent; an Any of a type the scheme lacks is an InternalError. */
export function unpackObject(any: Any | undefined): Message {
  const obj = any === undefined ? undefined : anyUnpack(any, apiRegistry);
  if (obj === undefined) {
    throw new ApiError({
      reason: "InternalError",
      code: 500,
      grpcCode: grpcStatus.INTERNAL,
      message: `the server sent an object of unknown type ${JSON.stringify(any?.typeUrl ?? "")}; is the client older than the server?`,
    });
  }
  return obj;
}
