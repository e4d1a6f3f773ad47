// Events about pods, as the kubelet records them (source component "kubelet", host = node):
// Pulling, Pulled, Created, Started, Killing, Unhealthy, BackOff, Failed, FailedMount ...
// (https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/). A repeat
// of the same event (object, type, reason, message) bumps count and lastTimestamp of the one
// already written instead of creating another, and is written at most every
// EVENT_REPEAT_WRITE_MS (the rest are counted and sent with the next write), like client-go's
// event correlator keeps a flapping probe from flooding the API server. Writes are
// best-effort and never block a pod sync.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EventSchema, type Pod } from "@tug/api";
import type { ApiClient } from "@tug/client";
import { errorText, type Logger } from "../log.js";

/** The shortest interval between two writes of one repeated event. */
export const EVENT_REPEAT_WRITE_MS = 10_000;
/** Events remembered for aggregation (oldest forgotten first; client-go's LRU holds 4096). */
const MAX_REMEMBERED = 4096;

export type EventType = "Normal" | "Warning";

/** Records an event about a pod; `container` sets involvedObject.fieldPath. */
export interface EventRecorder {
  pod(pod: Pod, type: EventType, reason: string, message: string, container?: string): void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  written: number;
  lastWriteMs: number;
  firstMs: number;
  writing: boolean;
}

/** An EventRecorder over the API server. */
export function apiEventRecorder(client: ApiClient, node: string, log: Logger): EventRecorder {
  const seen = new Map<string, Seen>();
  let counter = 0;
  const write = async (
    key: string,
    s: Seen,
    make: () => ReturnType<typeof create<typeof EventSchema>>,
  ) => {
    s.writing = true;
    const now = Date.now();
    try {
      if (s.written === 0) {
        await client.create(EventSchema, make());
      } else {
        await client.patch(EventSchema, s.name, {
          namespace: s.namespace,
          type: "merge",
          patch: { count: s.count, lastTimestamp: new Date(now).toISOString() },
        });
      }
      s.written = s.count;
      s.lastWriteMs = now;
    } catch (e) {
      log.debug("cannot record event", { key, error: errorText(e) });
      if (s.written === 0) seen.delete(key);
    } finally {
      s.writing = false;
    }
  };
  return {
    pod(pod, type, reason, message, container) {
      const md = pod.metadata;
      const namespace = md?.namespace ?? "";
      const key = `${md?.uid ?? ""}\u0000${container ?? ""}\u0000${type}\u0000${reason}\u0000${message}`;
      const now = Date.now();
      let s = seen.get(key);
      if (s === undefined) {
        if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value as string);
        s = {
          name: `${md?.name ?? ""}.${(now * 1000 + (counter++ % 1000)).toString(16)}`,
          namespace,
          count: 0,
          written: 0,
          lastWriteMs: 0,
          firstMs: now,
          writing: false,
        };
        seen.set(key, s);
      }
      s.count++;
      if (s.writing || (s.written > 0 && now - s.lastWriteMs < EVENT_REPEAT_WRITE_MS)) return;
      const entry = s;
      void write(key, entry, () =>
        create(EventSchema, {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: entry.name, namespace },
          involvedObject: {
            kind: "Pod",
            apiVersion: "v1",
            namespace,
            name: md?.name ?? "",
            uid: md?.uid ?? "",
            resourceVersion: md?.resourceVersion ?? "",
            fieldPath: container === undefined ? "" : `spec.containers{${container}}`,
          },
          reason,
          message,
          type,
          source: { component: "kubelet", host: node },
          reportingComponent: "kubelet",
          reportingInstance: node,
          firstTimestamp: timestampFromMs(entry.firstMs),
          lastTimestamp: timestampFromMs(now),
          count: entry.count,
        }),
      );
    },
  };
}

/** A recorder that records nothing. */
export const noEvents: EventRecorder = { pod: () => undefined };
