import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import {
  LEASE_DURATION_MS,
  LeaderElector,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
} from "../../src/leader-election/index.js";
import { FakeClock } from "../informer/support/fake-clock.js";
import { FakeLeaseClient, FakeLeaseStore, type NetworkModel } from "./support/fake-lease-store.js";

interface Candidate {
  elector: LeaderElector;
  client: FakeLeaseClient;
  stop: AbortController;
  done: Promise<void>;
  log: string[];
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

function candidate(
  identity: string,
  store: FakeLeaseStore,
  clock: FakeClock,
  extra: { releaseOnCancel?: boolean; errors?: string[]; network?: NetworkModel } = {},
): Candidate {
  const client = new FakeLeaseClient(store, clock, extra.network);
  const log: string[] = [];
  const elector = new LeaderElector({
    lease: client,
    identity,
    clock,
    wallClock: () => new Date(clock.now()),
    random: () => 0,
    releaseOnCancel: extra.releaseOnCancel ?? false,
    onError: (e, context) => extra.errors?.push(`${context}: ${(e as Error).message}`),
    callbacks: {
      onStartedLeading: (signal) => {
        log.push(`started@${clock.now()}`);
        signal.addEventListener("abort", () => log.push(`work stopped@${clock.now()}`));
      },
      onStoppedLeading: () => log.push(`stopped@${clock.now()}`),
      onNewLeader: (id) => log.push(`leader ${id === "" ? "(none)" : id}@${clock.now()}`),
    },
  });
  const stop = new AbortController();
  stops.push(stop);
  return { elector, client, stop, done: elector.run(stop.signal), log };
}

describe("LeaderElector", () => {
  it("creates the lease when there is none and leads at once", async () => {
    const clock = new FakeClock(1_000);
    const store = new FakeLeaseStore(clock);
    const a = candidate("a", store, clock);
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log).toEqual(["leader a@1000", "started@1000"]);
    expect(store.current()?.record).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: new Date(1_000),
      renewTime: new Date(1_000),
      leaseTransitions: 0,
    });
  });

  it("renews every RetryPeriod, keeping acquireTime and moving renewTime", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    candidate("a", store, clock);
    await clock.advance(RETRY_PERIOD_MS * 3);
    expect(store.writes.map((w) => w.at)).toEqual([0, 2_000, 4_000, 6_000]);
    expect(store.current()?.record.acquireTime).toEqual(new Date(0));
    expect(store.current()?.record.renewTime).toEqual(new Date(6_000));
  });

  it("waits while another holder renews, whatever the holder's own timestamps say", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const a = candidate("a", store, clock);
    await clock.advance(0);
    const b = candidate("b", store, clock);
    await clock.advance(60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe("a");
    expect(b.log).toEqual(["leader a@0"]);
  });

  it("takes over LeaseDuration after the leader stops renewing, as measured by its own clock", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const a = candidate("a", store, clock);
    await clock.advance(0);
    const b = candidate("b", store, clock);
    await clock.advance(3_000);
    // a is cut off: it renewed last at 2 s.
    a.client.partitioned = true;
    await clock.advance(RENEW_DEADLINE_MS + RETRY_PERIOD_MS);
    // a gives up 10 s after its renewal round began (4 s): at 14 s, before b may take over.
    expect(a.log).toEqual(["leader a@0", "started@0", "work stopped@14000", "stopped@14000"]);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(LEASE_DURATION_MS);
    expect(b.elector.isLeader()).toBe(true);
    // b read the lease at 2 s just before a's renewal, so it first saw that renewal at its 4 s
    // retry: by b's clock the lease expires at 4 + 15 = 19 s, and b's next retry is at 20 s.
    expect(b.log).toEqual(["leader a@0", "leader b@20000", "started@20000"]);
    expect(store.current()?.record.holderIdentity).toBe("b");
    expect(store.current()?.record.leaseTransitions).toBe(1);
    await a.done;
  });

  it("releases the lease on stop with releaseOnCancel, so a successor takes it within a retry", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const a = candidate("a", store, clock, { releaseOnCancel: true });
    await clock.advance(0);
    const b = candidate("b", store, clock);
    await clock.advance(5_000);
    a.stop.abort();
    await clock.advance(0);
    await a.done;
    expect(a.log.slice(-2)).toEqual(["work stopped@5000", "stopped@5000"]);
    expect(store.current()?.record).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    // A released lease (no holder) is free at once: b takes it at its next retry (6 s).
    await clock.advance(RETRY_PERIOD_MS);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.log).toEqual(["leader a@0", "leader b@6000", "started@6000"]);
    expect(store.current()?.record.leaseTransitions).toBe(1);
  });

  it("releases the lease even when a renewal still in flight at stop lands first", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const errors: string[] = [];
    // Every request takes 100 ms each way: a renewal is a read (200 ms) then a write (200 ms).
    const network: NetworkModel = { latency: () => 100, fails: () => false };
    const a = candidate("a", store, clock, { releaseOnCancel: true, errors, network });
    await clock.advance(400);
    expect(a.elector.isLeader()).toBe(true);
    // The first renewal starts at 2400: its read lands at 2500, its write is sent at 2600 and
    // lands at 2700. Stop while that write is on its way.
    await clock.advance(2_250);
    a.stop.abort();
    await clock.advance(2_000);
    await a.done;
    expect(errors).toEqual([]);
    expect(store.current()?.record).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect(store.writes.map((w) => w.holder)).toEqual(["a", "a", ""]);
  });

  it("releases the lease after a renewal whose answer was lost, by reading it again", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const errors: string[] = [];
    let loseAnswers = false;
    let call = 0;
    // fails() is asked twice per request (lost before the store, lost on the way back): the
    // renewal is a read (calls 0, 1) and a write (2, 3); only the write's answer is lost.
    const network: NetworkModel = {
      latency: () => 0,
      fails: () => loseAnswers && call++ === 3,
    };
    const a = candidate("a", store, clock, { releaseOnCancel: true, errors, network });
    await clock.advance(0);
    loseAnswers = true;
    await clock.advance(RETRY_PERIOD_MS); // the renewal lands; its answer is lost
    loseAnswers = false;
    a.stop.abort();
    await clock.advance(0);
    await a.done;
    expect(store.writes.map((w) => w.holder).slice(0, 2)).toEqual(["a", "a"]);
    expect(store.current()?.record.holderIdentity).toBe("");
    expect(errors.filter((e) => e.includes("release"))).toEqual([]);
  });

  it("keeps the lease on stop without releaseOnCancel", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const a = candidate("a", store, clock);
    await clock.advance(0);
    a.stop.abort();
    await clock.advance(0);
    await a.done;
    expect(a.log.at(-1)).toBe("stopped@0");
    expect(store.current()?.record.holderIdentity).toBe("a");
  });

  it("loses to a conflicting write and reports the new leader", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const errors: string[] = [];
    const a = candidate("a", store, clock, { errors });
    await clock.advance(0);
    // Someone else overwrites the lease directly (a newer holder), between a's renewals.
    const current = store.current()!;
    store.update({ ...current.record, holderIdentity: "z" }, current.resourceVersion);
    await clock.advance(RETRY_PERIOD_MS);
    // a reads z's lease, not yet expired by its observation: it cannot renew.
    await clock.advance(RENEW_DEADLINE_MS);
    expect(a.log).toContain("leader z@2000");
    expect(a.elector.isLeader()).toBe(false);
    expect(errors.at(-1)).toMatch(/lost leadership: failed to renew lease kube-system\/test-lease/);
  });

  it("holds no more abort listeners on its signal after a long campaign than after a short one", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    candidate("a", store, clock);
    await clock.advance(0);
    const b = candidate("b", store, clock);
    await clock.advance(RETRY_PERIOD_MS * 2);
    const early = getEventListeners(b.stop.signal, "abort").length;
    await clock.advance(RETRY_PERIOD_MS * 100);
    expect(b.elector.isLeader()).toBe(false);
    expect(getEventListeners(b.stop.signal, "abort").length).toBe(early);
  });

  it("only one of two candidates starting together wins", async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const a = candidate("a", store, clock);
    const b = candidate("b", store, clock);
    await clock.advance(30_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it("refuses timings that would let two leaders overlap, naming the fields", () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore(clock);
    const base = {
      lease: new FakeLeaseClient(store, clock),
      identity: "a",
      callbacks: { onStartedLeading: () => {}, onStoppedLeading: () => {} },
    };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000 })).toThrow(
      "leaseDurationMs (10000) must be greater than renewDeadlineMs (10000)",
    );
    expect(() => new LeaderElector({ ...base, retryPeriodMs: 9_000 })).toThrow(
      /renewDeadlineMs \(10000\) must be greater than retryPeriodMs \* 1.2/,
    );
    expect(() => new LeaderElector({ ...base, identity: "" })).toThrow(/identity is empty/);
  });
});
