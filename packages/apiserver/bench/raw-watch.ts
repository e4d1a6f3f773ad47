// A pod watch that does not decode pods: it reads each WatchEvent's bytes only far enough to
// find one annotation. With 1000 watchers in the one bench process on a 2-core machine, full
// decoding (what ApiClient.watch does) costs the bench more CPU per event than the server
// spends; a real cluster's watchers run on their own machines. BENCH_WATCH_DECODE=full
// measures with ApiClient instead.

import { create } from "@bufbuild/protobuf";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { apiServiceDefinition, apiv1 } from "@tug/client";

/** One client connection to dial `address` ("host:port"). */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure());
}

export interface RawWatch {
  cancel(): void;
  /** Resolves when the stream ends; rejects with its error unless cancelled. */
  readonly done: Promise<void>;
}

/**
 * Watches pods of `namespace` from `resourceVersion`; calls `onValue` with the value of
 * annotation `key` of every event's object that carries it.
 */
export function watchAnnotation(
  client: Client,
  namespace: string,
  resourceVersion: string,
  key: string,
  onValue: (value: string) => void,
): RawWatch {
  const def = apiServiceDefinition.Watch;
  if (def === undefined) throw new TypeError("the API service has no Watch method");
  const request = create(apiv1.WatchRequestSchema, {
    ref: { group: "", version: "v1", resource: "pods", namespace },
    resourceVersion,
  });
  const call = client.makeServerStreamRequest<apiv1.WatchRequest, Buffer>(
    def.path,
    def.requestSerialize as (m: apiv1.WatchRequest) => Buffer,
    (b: Buffer) => b,
    request,
    new Metadata(),
    {},
  );
  const needle = Buffer.from(key, "utf8");
  let cancelled = false;
  const done = new Promise<void>((resolve, reject) => {
    call.on("data", (bytes: Buffer) => {
      const value = annotationValue(bytes, needle);
      if (value !== undefined) onValue(value);
    });
    call.on("end", () => resolve());
    call.on("error", (e) => (cancelled ? resolve() : reject(e)));
  });
  return {
    cancel: () => {
      cancelled = true;
      call.cancel();
    },
    done,
  };
}

/**
 * The value of a protobuf map<string, string> entry whose key is `needle`, found anywhere in
 * `bytes`: the entry is `0x0a <len> key 0x12 <len> value` (fields 1 and 2, length-delimited).
 */
export function annotationValue(bytes: Buffer, needle: Buffer): string | undefined {
  const at = bytes.indexOf(needle);
  if (at < 2 || bytes[at - 2] !== 0x0a || bytes[at - 1] !== needle.length) return undefined;
  let i = at + needle.length;
  if (bytes[i] !== 0x12) return undefined;
  i++;
  let len = 0;
  for (let shift = 0; i < bytes.length; shift += 7) {
    const b = bytes[i++] as number;
    len |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
  }
  return bytes.toString("utf8", i, i + len);
}
