import type { JsonObject } from "@tug/api";
import { describe, expect, it } from "vitest";
import { sortEventsByLastSeen } from "../../src/printers/event-order.js";
import { runTug } from "../../src/program.js";
import { FakeClient } from "../support/fake-client.js";
import { fakeIo } from "../support/fake-io.js";

function event(name: string, times: JsonObject): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace: "default" },
    involvedObject: { kind: "Pod", name: "web", namespace: "default" },
    type: "Normal",
    reason: name,
    message: `${name} happened`,
    ...times,
  };
}

describe("tug get events", () => {
  it("sorts by last seen (lastTimestamp, else eventTime), oldest first", () => {
    const sorted = sortEventsByLastSeen([
      event("c", { lastTimestamp: "2024-05-01T11:59:00Z" }),
      event("a", { lastTimestamp: "2024-05-01T11:00:00Z" }),
      event("b", { eventTime: "2024-05-01T11:30:00.000000Z" }),
    ]);
    expect(sorted.map((e) => e.reason)).toEqual(["a", "b", "c"]);
  });

  it("prints kubectl's table in that order", async () => {
    const client = new FakeClient();
    client.seed(event("Started", { lastTimestamp: "2024-05-01T11:59:50Z" }));
    client.seed(event("Scheduled", { lastTimestamp: "2024-05-01T11:58:00Z" }));
    const io = fakeIo({ client });
    expect(await runTug(["get", "events"], io)).toBe(0);
    expect(io.out()).toBe(
      [
        "LAST SEEN   TYPE     REASON      OBJECT    MESSAGE",
        "2m          Normal   Scheduled   pod/web   Scheduled happened",
        "10s         Normal   Started     pod/web   Started happened",
        "",
      ].join("\n"),
    );
  });
});
