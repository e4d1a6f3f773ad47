// The order `tug get events` lists events in: oldest last-seen first, so the newest is at the
// bottom of the terminal, as `kubectl events` sorts them (and as `kubectl get events
// --sort-by=.lastTimestamp` does).
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_events/

import type { JsonObject } from "@tug/api";
import { str } from "./json-view.js";

/** When an event was last seen: lastTimestamp, else the series' or its eventTime, else creation. */
export function eventLastSeen(event: JsonObject): string {
  return (
    str(event, "lastTimestamp") ||
    str(event, "series", "lastObservedTime") ||
    str(event, "eventTime") ||
    str(event, "firstTimestamp") ||
    str(event, "metadata", "creationTimestamp")
  );
}

/** A new array of the events, oldest last-seen first; ties keep the server's order. */
export function sortEventsByLastSeen(events: readonly JsonObject[]): JsonObject[] {
  const time = (e: JsonObject) => {
    const t = Date.parse(eventLastSeen(e));
    return Number.isNaN(t) ? 0 : t;
  };
  return events
    .map((event, index) => ({ event, index, at: time(event) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map((e) => e.event);
}
