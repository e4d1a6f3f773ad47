import { describe, expect, it } from "vitest";
import { contextKey, ReadOnly } from "../../src/read-only.js";
import { message } from "../../src/types.js";

const ctx = (...b: number[]): Uint8Array => new Uint8Array(b);
const req = (c: Uint8Array, from = 1) => message({ type: "MsgReadIndex", from, context: c });

describe("ReadOnly (ReadIndex bookkeeping, thesis §6.4)", () => {
  it("keeps the option it was made with", () => {
    expect(new ReadOnly("safe").option).toBe("safe");
    expect(new ReadOnly("lease-based").option).toBe("lease-based");
  });

  it("queues requests with the commit index at arrival", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(5, req(ctx(1)));
    ro.addRequest(7, req(ctx(2)));
    expect(ro.pendingCount()).toBe(2);
    expect(ro.lastPendingRequestCtx()).toEqual(ctx(2));
  });

  it("ignores a duplicate context, keeping the first arrival's index", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(5, req(ctx(1)));
    ro.addRequest(9, req(ctx(1)));
    expect(ro.pendingCount()).toBe(1);
    const done = ro.advance(ctx(1));
    expect(done.map((s) => s.index)).toEqual([5]);
  });

  it("recvAck accumulates acks per request and returns them", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(5, req(ctx(1)));
    ro.recvAck(1, ctx(1));
    const acks = ro.recvAck(2, ctx(1));
    expect(acks && [...acks.keys()].sort()).toEqual([1, 2]);
  });

  it("recvAck for an unknown context returns undefined", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(5, req(ctx(1)));
    expect(ro.recvAck(2, ctx(9))).toBeUndefined();
  });

  it("advance confirms the request and every request queued before it, in order", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(3, req(ctx(1)));
    ro.addRequest(4, req(ctx(2)));
    ro.addRequest(6, req(ctx(3)));
    const done = ro.advance(ctx(2));
    expect(done.map((s) => [s.index, [...s.req.context]])).toEqual([
      [3, [1]],
      [4, [2]],
    ]);
    expect(ro.pendingCount()).toBe(1);
    expect(ro.lastPendingRequestCtx()).toEqual(ctx(3));
    // The confirmed ones are forgotten: acks for them go nowhere.
    expect(ro.recvAck(2, ctx(1))).toBeUndefined();
  });

  it("advance with an unknown context confirms nothing", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(3, req(ctx(1)));
    expect(ro.advance(ctx(7))).toEqual([]);
    expect(ro.pendingCount()).toBe(1);
  });

  it("a context can be reused once its read was confirmed", () => {
    const ro = new ReadOnly("safe");
    ro.addRequest(3, req(ctx(1)));
    ro.advance(ctx(1));
    ro.addRequest(8, req(ctx(1)));
    expect(ro.advance(ctx(1)).map((s) => s.index)).toEqual([8]);
  });

  it("with nothing pending there is no context for heartbeats", () => {
    const ro = new ReadOnly("safe");
    expect(ro.lastPendingRequestCtx()).toBeUndefined();
    expect(ro.pendingCount()).toBe(0);
  });

  it("contextKey tells different byte strings apart, including empty and zero bytes", () => {
    const keys = [ctx(), ctx(0), ctx(0, 0), ctx(1), ctx(0, 1), ctx(1, 0), ctx(255)].map(contextKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(contextKey(ctx(1, 2))).toBe(contextKey(ctx(1, 2)));
  });
});
