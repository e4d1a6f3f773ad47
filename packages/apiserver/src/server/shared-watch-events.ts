// Fan-out without per-watcher work: every watcher that is sent the same cached object as the
// same event type gets the same WatchEvent message, and the gRPC server turns that message
// into bytes once, not once per watcher (kube-apiserver's cachingObject does the same: an
// event is serialized once and the bytes shared by every watcher).

import type { KindInfo } from "@tug/api";
import type { apiv1 } from "@tug/client";
import type { ServerMethodDefinition } from "@tug/grpc";
import type { ApiObject } from "../registry/api-object.js";

/**
 * The WatchEvent for `object` sent as `type`, made by `make` the first time and shared after.
 * Keyed by the object's identity (watch-cache objects are immutable once cached) plus its
 * resourceVersion and the type, since one cached state can go out as ADDED to one watcher and
 * MODIFIED to another, and a previous state goes out as DELETED at the deletion's revision.
 */
export class SharedWatchEvents {
  private readonly byObject = new WeakMap<ApiObject, apiv1.WatchEvent[]>();

  eventFor(
    kind: KindInfo,
    type: string,
    object: ApiObject,
    make: (kind: KindInfo, type: string, object: ApiObject) => apiv1.WatchEvent,
  ): apiv1.WatchEvent {
    const rv = object.metadata?.resourceVersion ?? "";
    const known = this.byObject.get(object);
    const hit = known?.find((e) => e.type === type && sharedRv.get(e) === rv);
    if (hit !== undefined) return hit;
    const event = make(kind, type, object);
    sharedRv.set(event, rv);
    if (known === undefined) this.byObject.set(object, [event]);
    else known.push(event);
    return event;
  }
}

/** The resourceVersion each shared event was made at. */
const sharedRv = new WeakMap<apiv1.WatchEvent, string>();

/**
 * `definition` with the Watch response serializer remembering the bytes of each message it
 * encoded, so a WatchEvent written to a thousand streams is encoded once. The server frames a
 * copy of the bytes (a length prefix and the message), so sharing them is safe.
 */
export function withSharedWatchEncoding<D extends { readonly Watch?: ServerMethodDefinition }>(
  definition: D,
): D {
  const watch = definition.Watch;
  if (watch === undefined) return definition;
  const encoded = new WeakMap<object, Uint8Array>();
  return {
    ...definition,
    Watch: {
      ...watch,
      responseSerialize: (message: object) => {
        let bytes = encoded.get(message);
        if (bytes === undefined) {
          bytes = watch.responseSerialize(message);
          encoded.set(message, bytes);
        }
        return bytes;
      },
    },
  };
}
