// The encoded size of requests, for etcd's --max-request-bytes: etcd refuses a proposal whose
// encoding exceeds it with "request is too large". Decoding loses the size, so the service
// definitions' deserializers are wrapped to remember it per decoded object.

import type { ServiceDefinition } from "@grpc/grpc-js";

/**
 * Where a recording deserializer leaves the size: a symbol-keyed property on the decoded
 * object itself, not a WeakMap entry — a WeakMap with a short-lived key per request is extra
 * work for every garbage collection (ephemerons), and this is on the path of every write.
 */
const SIZE: unique symbol = Symbol("encodedSize");

interface Sized {
  [SIZE]?: number;
}

/**
 * The service definition with the named methods' request deserializers recording each
 * request's encoded size. Other methods are left as they are.
 */
export function recordRequestSizes<D extends ServiceDefinition>(
  service: D,
  methods: readonly (keyof D & string)[],
): D {
  const out: Record<string, ServiceDefinition[string]> = { ...service };
  for (const name of methods) {
    const method = service[name];
    if (method === undefined) throw new Error(`service has no method ${name}`);
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer): unknown => {
        const request: unknown = decode(buf);
        if (typeof request === "object" && request !== null) (request as Sized)[SIZE] = buf.length;
        return request;
      },
    };
  }
  return out as D;
}

/** The encoded size of a request decoded by a recording deserializer; 0 if unknown. */
export function requestSize(request: object): number {
  return (request as Sized)[SIZE] ?? 0;
}
