import { describe, expect, it } from "vitest";
import { EventSink } from "../../src/process/event-sink.js";

/** A write that settles when the test says so. */
function deferredWrite(log: string[], name: string) {
  let settle: (ok: boolean) => void = () => {};
  const write = () => {
    log.push(`start ${name}`);
    return new Promise<void>((resolve, reject) => {
      settle = (ok) => (ok ? resolve() : reject(new Error(`${name} failed`)));
    });
  };
  return { write, settle: (ok: boolean) => settle(ok) };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe("EventSink", () => {
  it("runs at most maxInFlight writes, queues up to maxQueued in order, and drops beyond", async () => {
    const log: string[] = [];
    const sink = new EventSink({ maxInFlight: 2, maxQueued: 2 });
    const w = ["a", "b", "c", "d", "e"].map((n) => deferredWrite(log, n));
    expect(w.map((x) => sink.submit(x.write))).toEqual([true, true, true, true, false]);
    expect(log).toEqual(["start a", "start b"]);
    expect(sink.queued).toBe(2);
    expect(sink.dropped).toBe(1);

    // A failed write frees its slot like a successful one.
    w[1]?.settle(false);
    await flush();
    expect(log).toEqual(["start a", "start b", "start c"]);
    w[0]?.settle(true);
    await flush();
    expect(log).toEqual(["start a", "start b", "start c", "start d"]);
    expect(sink.queued).toBe(0);
    expect(sink.submit(deferredWrite(log, "f").write)).toBe(true);
    expect(sink.queued).toBe(1);
  });

  it("dropIfFull counts a drop only when a submit would be dropped", () => {
    const log: string[] = [];
    const sink = new EventSink({ maxInFlight: 1, maxQueued: 1 });
    expect(sink.dropIfFull()).toBe(false);
    sink.submit(deferredWrite(log, "a").write);
    expect(sink.dropIfFull()).toBe(false);
    sink.submit(deferredWrite(log, "b").write);
    expect(sink.dropIfFull()).toBe(true);
    expect(sink.dropped).toBe(1);
    expect(sink.submit(deferredWrite(log, "c").write)).toBe(false);
    expect(sink.dropped).toBe(2);
    expect(log).toEqual(["start a"]);
  });

  it("writes one event at a time by default, as client-go's recorder", () => {
    const log: string[] = [];
    const sink = new EventSink();
    for (const name of ["a", "b", "c"]) sink.submit(deferredWrite(log, name).write);
    expect(log).toEqual(["start a"]);
    expect(sink.queued).toBe(2);
  });

  it("survives a write that throws before returning a promise", async () => {
    const sink = new EventSink({ maxInFlight: 1, maxQueued: 1 });
    const ran: string[] = [];
    sink.submit(() => {
      throw new Error("boom");
    });
    sink.submit(async () => {
      ran.push("next");
    });
    await flush();
    expect(ran).toEqual(["next"]);
  });
});
