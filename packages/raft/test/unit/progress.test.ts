import { describe, expect, it } from "vitest";
import { Progress } from "../../src/progress.js";
import type { ProgressState } from "../../src/types.js";

function progress(init: {
  state?: ProgressState;
  match?: number;
  next?: number;
  maxInflight?: number;
  pendingSnapshot?: number;
}): Progress {
  const pr = new Progress(init.next ?? 1, init.maxInflight ?? 256, 0);
  if (init.state === "replicate") pr.becomeReplicate();
  if (init.state === "snapshot") pr.becomeSnapshot(init.pendingSnapshot ?? 0);
  pr.match = init.match ?? 0;
  pr.next = init.next ?? pr.match + 1;
  return pr;
}

describe("Progress state transitions", () => {
  it("starts in probe, not paused, with the given next", () => {
    const pr = new Progress(7, 4, 0);
    expect(pr.state).toBe("probe");
    expect(pr.next).toBe(7);
    expect(pr.match).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it("becomeReplicate sets next to match+1 and clears the window", () => {
    const pr = progress({ match: 5, next: 9 });
    pr.becomeReplicate();
    expect(pr.state).toBe("replicate");
    expect(pr.next).toBe(6);
    expect(pr.inflights.count()).toBe(0);
  });

  it("becomeProbe from replicate resumes right after match", () => {
    const pr = progress({ state: "replicate", match: 1, next: 5 });
    pr.sentEntries(3, 30);
    expect(pr.inflights.count()).toBe(1);
    pr.becomeProbe();
    expect(pr.state).toBe("probe");
    expect(pr.next).toBe(2);
    expect(pr.inflights.count()).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it("becomeProbe from snapshot resumes after the snapshot when it is past match", () => {
    const pr = progress({ match: 1, next: 5 });
    pr.becomeSnapshot(10);
    pr.becomeProbe();
    expect(pr.state).toBe("probe");
    expect(pr.next).toBe(11);
    expect(pr.pendingSnapshot).toBe(0);
  });

  it("becomeProbe from snapshot resumes after match when match is past the snapshot", () => {
    const pr = progress({ match: 20, next: 21 });
    pr.becomeSnapshot(10);
    pr.becomeProbe();
    expect(pr.next).toBe(21);
  });

  it("becomeProbe from a failed snapshot (pending reset to 0) resumes after match", () => {
    const pr = progress({ match: 3, next: 4 });
    pr.becomeSnapshot(10);
    pr.pendingSnapshot = 0;
    pr.becomeProbe();
    expect(pr.next).toBe(4);
  });

  it("becomeSnapshot records the snapshot index and pauses sending", () => {
    const pr = progress({ match: 3, next: 4 });
    pr.becomeSnapshot(42);
    expect(pr.state).toBe("snapshot");
    expect(pr.pendingSnapshot).toBe(42);
    expect(pr.isPaused()).toBe(true);
    expect(pr.status()).toMatchObject({ state: "snapshot", pendingSnapshot: 42, paused: true });
  });
});

describe("Progress.maybeUpdate", () => {
  const prevMatch = 3;
  const prevNext = 5;
  const cases = [
    {
      n: prevMatch - 1,
      updated: false,
      match: prevMatch,
      next: prevNext,
      why: "older ack is stale",
    },
    { n: prevMatch, updated: false, match: prevMatch, next: prevNext, why: "same ack is stale" },
    {
      n: prevMatch + 1,
      updated: true,
      match: prevMatch + 1,
      next: prevNext,
      why: "newer ack at next-1 keeps next",
    },
    {
      n: prevNext,
      updated: true,
      match: prevNext,
      next: prevNext + 1,
      why: "ack at next keeps match < next",
    },
    {
      n: prevNext + 3,
      updated: true,
      match: prevNext + 3,
      next: prevNext + 4,
      why: "ack past next moves next",
    },
  ];
  for (const c of cases) {
    it(`maybeUpdate(${c.n}) with match ${prevMatch}, next ${prevNext}: ${c.why}`, () => {
      const pr = progress({ match: prevMatch, next: prevNext });
      expect(pr.maybeUpdate(c.n)).toBe(c.updated);
      expect(pr.match).toBe(c.match);
      expect(pr.next).toBe(c.next);
    });
  }

  it("an ack resumes a paused probe", () => {
    const pr = progress({ match: 0, next: 3 });
    pr.sentEntries(1, 1);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(2)).toBe(true);
    expect(pr.isPaused()).toBe(false);
  });
});

describe("Progress.maybeDecrTo", () => {
  // Mirrors etcd-io/raft's TestProgressMaybeDecr.
  const cases: {
    state: ProgressState;
    match: number;
    next: number;
    rejected: number;
    hint: number;
    decreased: boolean;
    wantNext: number;
    why: string;
  }[] = [
    {
      state: "replicate",
      match: 5,
      next: 10,
      rejected: 5,
      hint: 5,
      decreased: false,
      wantNext: 10,
      why: "rejection at match is stale",
    },
    {
      state: "replicate",
      match: 5,
      next: 10,
      rejected: 4,
      hint: 4,
      decreased: false,
      wantNext: 10,
      why: "rejection below match is stale",
    },
    {
      state: "replicate",
      match: 5,
      next: 10,
      rejected: 9,
      hint: 9,
      decreased: true,
      wantNext: 6,
      why: "rejection above match falls back to match+1",
    },
    {
      state: "probe",
      match: 0,
      next: 0,
      rejected: 0,
      hint: 0,
      decreased: false,
      wantNext: 0,
      why: "next-1 differs from rejected: stale",
    },
    {
      state: "probe",
      match: 0,
      next: 10,
      rejected: 5,
      hint: 5,
      decreased: false,
      wantNext: 10,
      why: "not the outstanding probe: stale",
    },
    {
      state: "probe",
      match: 0,
      next: 10,
      rejected: 9,
      hint: 9,
      decreased: true,
      wantNext: 9,
      why: "outstanding probe: step back one",
    },
    {
      state: "probe",
      match: 0,
      next: 2,
      rejected: 1,
      hint: 1,
      decreased: true,
      wantNext: 1,
      why: "back to index 1",
    },
    {
      state: "probe",
      match: 0,
      next: 1,
      rejected: 0,
      hint: 0,
      decreased: true,
      wantNext: 1,
      why: "next never drops below match+1",
    },
    {
      state: "probe",
      match: 0,
      next: 10,
      rejected: 9,
      hint: 2,
      decreased: true,
      wantNext: 3,
      why: "hint skips back to hint+1",
    },
    {
      state: "probe",
      match: 0,
      next: 10,
      rejected: 9,
      hint: 0,
      decreased: true,
      wantNext: 1,
      why: "hint 0 probes from 1",
    },
    {
      state: "probe",
      match: 4,
      next: 10,
      rejected: 9,
      hint: 1,
      decreased: true,
      wantNext: 5,
      why: "hint below match is clamped to match+1",
    },
  ];
  for (const c of cases) {
    it(`${c.state} match ${c.match} next ${c.next}, rejected ${c.rejected} hint ${c.hint}: ${c.why}`, () => {
      const pr = progress({ state: c.state, match: c.match, next: c.next });
      expect(pr.maybeDecrTo(c.rejected, c.hint)).toBe(c.decreased);
      expect(pr.match).toBe(c.match);
      expect(pr.next).toBe(c.wantNext);
    });
  }

  it("a rejection of the outstanding probe resumes sending", () => {
    const pr = progress({ match: 0, next: 5 });
    pr.sentEntries(2, 2);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeDecrTo(4, 4)).toBe(true);
    expect(pr.isPaused()).toBe(false);
  });

  it("a stale rejection leaves a paused probe paused", () => {
    const pr = progress({ match: 0, next: 5 });
    pr.sentEntries(2, 2);
    expect(pr.maybeDecrTo(2, 2)).toBe(false);
    expect(pr.isPaused()).toBe(true);
  });
});

describe("Progress.isPaused and sentEntries", () => {
  it("probe: pauses after a probe with entries is sent", () => {
    const pr = progress({ match: 0, next: 1 });
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(3, 30);
    expect(pr.isPaused()).toBe(true);
    // A probe does not advance next: the next one re-sends from the same place.
    expect(pr.next).toBe(1);
  });

  it("probe: a heartbeat answer resumes it (the flag is cleared)", () => {
    const pr = progress({ match: 0, next: 1 });
    pr.sentEntries(1, 1);
    pr.msgAppFlowPaused = false;
    expect(pr.isPaused()).toBe(false);
  });

  it("replicate: sending advances next optimistically and fills the window", () => {
    const pr = progress({ state: "replicate", match: 4, next: 5, maxInflight: 3 });
    pr.sentEntries(2, 20);
    expect(pr.next).toBe(7);
    expect(pr.inflights.count()).toBe(1);
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(1, 10);
    pr.sentEntries(4, 40);
    expect(pr.next).toBe(12);
    expect(pr.inflights.count()).toBe(3);
    expect(pr.isPaused()).toBe(true);
    expect(pr.status()).toMatchObject({ inflight: 3, paused: true, next: 12, match: 4 });
  });

  it("replicate: an empty append takes no slot and does not move next", () => {
    const pr = progress({ state: "replicate", match: 4, next: 5, maxInflight: 1 });
    pr.sentEntries(0, 0);
    expect(pr.next).toBe(5);
    expect(pr.inflights.count()).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it("replicate: the window records each message's last index, so an ack frees just those", () => {
    const pr = progress({ state: "replicate", match: 0, next: 1, maxInflight: 2 });
    pr.sentEntries(3, 3); // entries 1..3
    pr.sentEntries(2, 2); // entries 4..5
    expect(pr.isPaused()).toBe(true);
    pr.maybeUpdate(3);
    pr.inflights.freeLE(3);
    expect(pr.inflights.count()).toBe(1);
    expect(pr.isPaused()).toBe(false);
  });

  it("replicate: a byte cap pauses before the count cap", () => {
    const pr = new Progress(1, 100, 50);
    pr.becomeReplicate();
    pr.sentEntries(1, 30);
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(1, 20);
    expect(pr.isPaused()).toBe(true);
  });

  it("snapshot: always paused, and sending changes nothing", () => {
    const pr = progress({ match: 2, next: 3 });
    pr.becomeSnapshot(9);
    pr.sentEntries(5, 50);
    expect(pr.next).toBe(3);
    expect(pr.isPaused()).toBe(true);
  });
});
