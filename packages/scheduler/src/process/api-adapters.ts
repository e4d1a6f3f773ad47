// The scheduler's Binder and EventRecorder over tug-apiserver: Bind is the API's Bind verb
// (pods/binding), events are core/v1 Events written as kube-scheduler writes them (reason
// FailedScheduling / Scheduled, source component = the scheduler's name).
// https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/

import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Event,
  EventSchema,
  type Pod,
  PodConditionSchema,
  PodSchema,
  PodStatusSchema,
} from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";
import {
  type Binder,
  type EventRecorder,
  type PodConditionWriter,
  scheduledMessage,
} from "../scheduler.js";
import { EventSink } from "./event-sink.js";

/** The ApiClient calls the adapters make. */
export type SchedulerApi = Pick<
  ApiClient,
  "bindWithoutResult" | "create" | "update" | "updateStatus"
>;

/** The pod condition the scheduler owns. */
export const POD_SCHEDULED = "PodScheduled";

/**
 * Sets PodScheduled=False with the reason and message through the status subresource, unless
 * the pod already says so. The write carries the pod's resourceVersion: a Conflict means the
 * pod changed meanwhile (its next attempt writes again), and NotFound that it is gone; both are
 * dropped, anything else goes to `onError`.
 */
export function apiPodConditionWriter(
  api: SchedulerApi,
  onError: (err: unknown, pod: Pod) => void,
  now: () => Date = () => new Date(),
): PodConditionWriter {
  return {
    unschedulable(pod, reason, message) {
      const current = pod.status?.conditions.find((c) => c.type === POD_SCHEDULED);
      if (current?.status === "False" && current.reason === reason && current.message === message) {
        return;
      }
      const updated = clone(PodSchema, pod);
      updated.status ??= create(PodStatusSchema);
      const condition = create(PodConditionSchema, {
        type: POD_SCHEDULED,
        status: "False",
        reason,
        message,
        lastTransitionTime:
          current?.status === "False" && current.lastTransitionTime !== undefined
            ? current.lastTransitionTime
            : timestampFromDate(now()),
      });
      const conditions = updated.status.conditions.filter((c) => c.type !== POD_SCHEDULED);
      updated.status.conditions = [...conditions, condition];
      api.updateStatus(PodSchema, updated).catch((err: unknown) => {
        if (isApiError(err, "Conflict") || isApiError(err, "NotFound")) return;
        onError(err, pod);
      });
    },
  };
}

/** client-go's rest client retries a 429 this many times (DefaultMaxRetries... maxRetries 10). */
export const MAX_BIND_RETRIES = 10;

export interface BinderOptions {
  /** Waits out a 429's Retry-After; a timer by default. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Binds through the API's Bind verb. A 429 TooManyRequests (the API server shedding load past
 * its in-flight limit) is retried after its Retry-After (at least 1 s), up to MAX_BIND_RETRIES
 * times, as client-go's rest client retries it for kube-scheduler: the binding was refused
 * before anything was written, and failing the pod instead would requeue it with a back-off
 * and write a FailedScheduling event and a condition into the very overload.
 */
export function apiBinder(api: SchedulerApi, options: BinderOptions = {}): Binder {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    async bind(pod: Pod, nodeName: string): Promise<void> {
      const meta = pod.metadata;
      for (let retries = 0; ; retries++) {
        try {
          // The uid guards against binding a pod recreated under the same name meanwhile.
          await api.bindWithoutResult(meta?.namespace ?? "", meta?.name ?? "", nodeName, {
            uid: meta?.uid ?? "",
          });
          return;
        } catch (err) {
          if (!isApiError(err, "TooManyRequests") || retries >= MAX_BIND_RETRIES) throw err;
          await sleep(Math.max(1, err.details.retryAfterSeconds) * 1000);
        }
      }
    },
  };
}

export interface EventRecorderOptions {
  /** source.component and reportingComponent: the scheduler's name. */
  readonly component: string;
  /** reportingInstance: this process's identity. */
  readonly instance: string;
  /** Event writes are best effort: failures go here. */
  readonly onError: (err: unknown, pod: Pod) => void;
  readonly now?: () => Date;
  /** Bounds the writes in flight and queued (default: client-go's 1000 queued, 1 in flight). */
  readonly sink?: EventSink;
}

/** Similar events within this window are one Event with a count (client-go's correlator: 10 min). */
export const EVENT_AGGREGATION_WINDOW_MS = 10 * 60_000;
/** At most this many recent events are remembered for aggregation. */
const EVENT_CACHE_LIMIT = 4096;

interface RecentEvent {
  event: Event;
  at: number;
}

/**
 * Records events through `options.sink` (bounded: under a burst, events are dropped rather than
 * crowd out Bind calls, as client-go's recorder drops them). A repeat of the same event (same pod, reason and message) within
 * EVENT_AGGREGATION_WINDOW_MS updates the first one's count and lastTimestamp instead of
 * writing a new Event, as client-go's recorder does, so a pod retried every 10 s does not
 * flood its namespace.
 */
export function apiEventRecorder(api: SchedulerApi, options: EventRecorderOptions): EventRecorder {
  const now = options.now ?? (() => new Date());
  const sink = options.sink ?? new EventSink();
  let seq = 0;
  const recent = new Map<string, RecentEvent>();
  const record = (pod: Pod, type: string, reason: string, action: string, message: string) => {
    // A full queue drops the event: do not build it (nor aggregate a repeat that is dropped).
    if (sink.dropIfFull()) return;
    const meta = pod.metadata;
    const at = now();
    const ts = timestampFromDate(at);
    const dedupeKey = `${meta?.uid ?? ""}\u0000${reason}\u0000${message}`;
    const seen = recent.get(dedupeKey);
    if (seen !== undefined && at.getTime() - seen.at < EVENT_AGGREGATION_WINDOW_MS) {
      const repeated = clone(EventSchema, seen.event);
      repeated.count = seen.event.count + 1;
      repeated.lastTimestamp = ts;
      seen.event = repeated;
      // resourceVersion "" overwrites: this recorder is the Event's only writer.
      if (repeated.metadata !== undefined) repeated.metadata.resourceVersion = "";
      sink.submit(() =>
        api.update(EventSchema, repeated).catch((err: unknown) => {
          recent.delete(dedupeKey);
          options.onError(err, pod);
        }),
      );
      return;
    }
    // Event names are <object>.<unique suffix>, as client-go's recorder makes them.
    const suffix = (at.getTime() * 1000 + (seq++ % 1000)).toString(16);
    const event = create(EventSchema, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${meta?.name ?? ""}.${suffix}`, namespace: meta?.namespace ?? "" },
      involvedObject: {
        apiVersion: "v1",
        kind: "Pod",
        namespace: meta?.namespace ?? "",
        name: meta?.name ?? "",
        uid: meta?.uid ?? "",
        resourceVersion: meta?.resourceVersion ?? "",
      },
      reason,
      message,
      type,
      action,
      source: { component: options.component },
      reportingComponent: options.component,
      reportingInstance: options.instance,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    });
    if (recent.size >= EVENT_CACHE_LIMIT) recent.clear();
    recent.set(dedupeKey, { event, at: at.getTime() });
    const accepted = sink.submit(() =>
      api.create(EventSchema, event, { namespace: meta?.namespace ?? "" }).catch((err: unknown) => {
        recent.delete(dedupeKey);
        options.onError(err, pod);
      }),
    );
    // A dropped first occurrence must not absorb its repeats.
    if (!accepted) recent.delete(dedupeKey);
  };
  return {
    failedScheduling(pod, message) {
      record(pod, "Warning", "FailedScheduling", "Scheduling", message);
    },
    scheduled(pod, nodeName) {
      record(pod, "Normal", "Scheduled", "Binding", scheduledMessage(pod, nodeName));
    },
  };
}
