// Records core/v1 Events about objects, as Kubernetes' event recorder does
// (k8s.io/client-go/tools/record): an Event named `<object>.<hex nanoseconds>`, and a repeat of
// the same event (same object, type, reason and message from the same component) bumps the
// count and lastTimestamp of the Event already written instead of creating another.
// https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Event,
  EventSchema,
  EventSourceSchema,
  type ObjectMeta,
  ObjectReferenceSchema,
} from "@tug/api";
import { type ApiClient, type ErrorReporter, isApiError, logErrorAsJson } from "@tug/client";

/** Distinct events remembered for aggregation (client-go's maxLruCacheEntries). */
export const EVENT_CACHE_SIZE = 4096;

export type EventType = "Normal" | "Warning";

/** The object an event is about. */
export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: ObjectMeta | undefined;
}

/** Emits events; never throws and never blocks its caller. */
export interface EventRecorder {
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void;
}

/** An EventRecorder that drops everything (for tests of pure logic). */
export const NO_EVENTS: EventRecorder = { event: () => {} };

export interface ApiEventRecorderOptions {
  readonly api: Pick<ApiClient, "create" | "patch">;
  /** source.component and reportingComponent: "replicaset-controller", "deployment-controller". */
  readonly component: string;
  /** source.host / reportingInstance. */
  readonly host?: string;
  readonly now?: () => Date;
  readonly onError?: ErrorReporter;
}

interface Seen {
  readonly name: string;
  readonly namespace: string;
  count: number;
}

/**
 * Writes events through the API, one at a time in the order they were recorded. flush() waits
 * for everything recorded so far to be written (or to have failed and been reported).
 */
export class ApiEventRecorder implements EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private tail: Promise<void> = Promise.resolve();
  private readonly now: () => Date;
  private readonly onError: ErrorReporter;
  private lastNanos = 0n;

  constructor(private readonly options: ApiEventRecorderOptions) {
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? logErrorAsJson;
  }

  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    const at = this.now();
    this.tail = this.tail
      .then(() => this.write(obj, type, reason, message, at))
      .catch((error: unknown) =>
        this.onError(error, `event ${reason} for ${obj.kind} ${obj.metadata?.name ?? ""}`),
      );
  }

  /** Resolves once every event recorded so far has been written or reported as failed. */
  flush(): Promise<void> {
    return this.tail;
  }

  private async write(
    obj: InvolvedObject,
    type: EventType,
    reason: string,
    message: string,
    at: Date,
  ): Promise<void> {
    const meta = obj.metadata;
    const namespace = meta?.namespace || "default";
    const key = JSON.stringify([
      obj.apiVersion,
      obj.kind,
      namespace,
      meta?.name ?? "",
      meta?.uid ?? "",
      type,
      reason,
      message,
    ]);
    const seen = this.seen.get(key);
    if (seen !== undefined) {
      try {
        await this.options.api.patch(EventSchema, seen.name, {
          namespace: seen.namespace,
          type: "merge",
          patch: { count: seen.count + 1, lastTimestamp: at.toISOString() },
        });
        seen.count++;
        // Most recently used last: the Map's order is the LRU order.
        this.seen.delete(key);
        this.seen.set(key, seen);
        return;
      } catch (error) {
        if (!isApiError(error, "NotFound")) throw error;
        // The event expired (events have a TTL): start a new one.
        this.seen.delete(key);
      }
    }
    const name = `${meta?.name ?? "unknown"}.${this.uniqueNanos(at).toString(16)}`;
    const event: Event = create(EventSchema, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: create(ObjectReferenceSchema, {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta?.name ?? "",
        namespace: meta?.namespace ?? "",
        uid: meta?.uid ?? "",
        resourceVersion: meta?.resourceVersion ?? "",
      }),
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: timestampFromDate(at),
      lastTimestamp: timestampFromDate(at),
      source: create(EventSourceSchema, {
        component: this.options.component,
        host: this.options.host ?? "",
      }),
      reportingComponent: this.options.component,
      reportingInstance: this.options.host ?? "",
    });
    const created = await this.options.api.create(EventSchema, event);
    this.seen.set(key, {
      name: created.metadata?.name ?? name,
      namespace,
      count: 1,
    });
    if (this.seen.size > EVENT_CACHE_SIZE) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** Nanoseconds since the epoch, strictly increasing within this recorder (unique names). */
  private uniqueNanos(at: Date): bigint {
    let nanos = BigInt(at.getTime()) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return nanos;
  }
}
