import { FakeClock } from "@tug/client";
import { describe, expect, it } from "vitest";
import { SchedulingQueue } from "../../src/queue/scheduling-queue.js";
import { makePod } from "../support/fixtures.js";

function newQueue() {
  const clock = new FakeClock();
  return { clock, q: new SchedulingQueue({ clock }) };
}

async function popKey(q: SchedulingQueue): Promise<string | undefined> {
  return (await q.pop())?.key;
}

describe("SchedulingQueue", () => {
  it("pops higher priority first, then first in", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("low-1"));
    clock.advance(1);
    q.add(makePod("high", { priority: 100 }));
    clock.advance(1);
    q.add(makePod("low-2"));
    expect(await popKey(q)).toBe("default/high");
    expect(await popKey(q)).toBe("default/low-1");
    expect(await popKey(q)).toBe("default/low-2");
    q.close();
  });

  it("wakes a waiting pop when a pod arrives, and pop resolves undefined after close", async () => {
    const { q } = newQueue();
    const waiting = q.pop();
    q.add(makePod("a"));
    expect((await waiting)?.key).toBe("default/a");
    const pending = q.pop();
    q.close();
    expect(await pending).toBeUndefined();
  });

  it("never hands out a pod in flight; an update during the attempt is kept", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("a"));
    const first = await q.pop();
    expect(first?.attempts).toBe(1);
    q.add(makePod("a"));
    q.update(makePod("a", { labels: { v: "2" } }));
    expect(q.pending()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 1 });
    q.requeueBackoff("default/a");
    clock.advance(1000);
    const second = await q.pop();
    expect(second?.attempts).toBe(2);
    expect(second?.pod.metadata?.labels.v).toBe("2");
    q.close();
  });

  it("backs off exponentially from 1 s to at most 10 s", () => {
    const { q } = newQueue();
    expect([1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n))).toEqual([
      1000, 2000, 4000, 8000, 10000, 10000,
    ]);
    q.close();
  });

  it("parks an unschedulable pod until a cluster event, then retries it after its back-off", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("a"));
    await q.pop();
    q.requeueUnschedulable("default/a");
    expect(q.pending().unschedulable).toBe(1);
    clock.advance(10_000);
    expect(q.pending().unschedulable).toBe(1);
    q.moveAllToActiveOrBackoff();
    // Back-off (1 s) long over: straight to activeQ.
    expect(q.pending()).toMatchObject({ active: 1, unschedulable: 0 });
    await q.pop();
    q.requeueUnschedulable("default/a");
    // Second failure: 2 s back-off; an event right away sends it to backoffQ first.
    q.moveAllToActiveOrBackoff();
    expect(q.pending()).toMatchObject({ backoff: 1, active: 0 });
    clock.advance(1999);
    expect(q.pending().backoff).toBe(1);
    clock.advance(1);
    expect(q.pending()).toMatchObject({ backoff: 0, active: 1 });
    q.close();
  });

  it("sends a pod to backoffQ, not unschedulablePods, when an event came during its attempt", async () => {
    const { q } = newQueue();
    q.add(makePod("a"));
    await q.pop();
    q.moveAllToActiveOrBackoff();
    q.requeueUnschedulable("default/a");
    expect(q.pending()).toMatchObject({ backoff: 1, unschedulable: 0 });
    q.close();
  });

  it("retries pods left in unschedulablePods for 5 minutes without an event", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("a"));
    await q.pop();
    q.requeueUnschedulable("default/a");
    clock.advance(4 * 60_000 + 59_000);
    expect(q.pending().unschedulable).toBe(1);
    clock.advance(30_000);
    expect(q.pending()).toMatchObject({ unschedulable: 0, active: 1 });
    q.close();
  });

  it("an update moves an unschedulable pod out; a delete drops it, even in flight", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("a"));
    await q.pop();
    q.requeueUnschedulable("default/a");
    clock.advance(5_000);
    q.update(makePod("a", { labels: { fixed: "yes" } }));
    expect(q.pending()).toMatchObject({ active: 1, unschedulable: 0 });
    await q.pop();
    q.delete("default/a");
    q.requeueUnschedulable("default/a");
    expect(q.pending()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
    expect(q.has("default/a")).toBe(false);
    q.close();
  });

  it("queues a pod recreated under the same name during an attempt", async () => {
    const { q } = newQueue();
    q.add(makePod("a"));
    await q.pop();
    q.delete("default/a");
    const again = makePod("a");
    if (again.metadata !== undefined) again.metadata.uid = "uid-a-2";
    q.add(again);
    // The old pod's attempt ends either way; the new one is pending.
    q.done("default/a");
    const next = await q.pop();
    expect(next?.pod.metadata?.uid).toBe("uid-a-2");
    q.requeueUnschedulable("default/a");
    expect(q.pending().unschedulable).toBe(1);
    q.close();
  });
});
