// ControllerExpectations: an owner is not synced again until its expected pod creations and
// deletions have been observed, or have waited EXPECTATIONS_TIMEOUT_MS.

import { FakeClock } from "@tug/client";
import { describe, expect, it } from "vitest";
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from "../../src/index.js";

describe("ControllerExpectations", () => {
  it("an owner with no record is satisfied", () => {
    expect(new ControllerExpectations(new FakeClock()).satisfied("ns/rs")).toBe(true);
  });

  it("waits for every expected creation to be observed", () => {
    const e = new ControllerExpectations(new FakeClock());
    e.expectCreations("ns/rs", 2);
    expect(e.satisfied("ns/rs")).toBe(false);
    e.creationObserved("ns/rs");
    expect(e.satisfied("ns/rs")).toBe(false);
    e.creationObserved("ns/rs");
    expect(e.satisfied("ns/rs")).toBe(true);
  });

  it("counts the deletion of one pod once, however often it is observed", () => {
    const e = new ControllerExpectations(new FakeClock());
    e.expectDeletions("ns/rs", ["ns/a", "ns/b"]);
    e.deletionObserved("ns/rs", "ns/a");
    e.deletionObserved("ns/rs", "ns/a");
    e.deletionObserved("ns/rs", "ns/other");
    expect(e.pending("ns/rs")).toEqual({ add: 0, del: 1 });
    expect(e.satisfied("ns/rs")).toBe(false);
    e.deletionObserved("ns/rs", "ns/b");
    expect(e.satisfied("ns/rs")).toBe(true);
  });

  it("gives up on expectations older than the timeout (a lost event must not stall an owner)", () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations(clock);
    e.expectCreations("ns/rs", 1);
    clock.advance(EXPECTATIONS_TIMEOUT_MS);
    expect(e.satisfied("ns/rs")).toBe(false);
    clock.advance(1);
    expect(e.satisfied("ns/rs")).toBe(true);
  });

  it("forgets a deleted owner", () => {
    const e = new ControllerExpectations(new FakeClock());
    e.expectCreations("ns/rs", 3);
    e.delete("ns/rs");
    expect(e.satisfied("ns/rs")).toBe(true);
  });
});
