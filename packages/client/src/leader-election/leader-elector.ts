// Leader election on a Lease, client-go's algorithm (k8s.io/client-go/tools/leaderelection):
// candidates race to write themselves into the Lease with optimistic concurrency; the holder
// renews it every RetryPeriod; the others take it over only after it has not changed, as
// observed on their own clock, for LeaseDuration.

import { type ErrorReporter, logErrorAsJson } from "../informer/reflector.js";
import { sleep } from "../informer/sleep.js";
import { type Clock, realClock } from "../workqueue/clock.js";
import type { LeaseClient, LeaseRecord, StoredLeaseRecord } from "./lease-client.js";

/**
 * How long non-leaders wait after last seeing the lease change before taking it over
 * (client-go's and kube-controller-manager's default). Also how long a crashed leader's
 * work stays unowned.
 */
export const LEASE_DURATION_MS = 15_000;
/**
 * How long the leader keeps retrying a failing renewal before it gives up leadership. Shorter
 * than LEASE_DURATION_MS, so a leader that cannot renew stops before anyone may take over.
 */
export const RENEW_DEADLINE_MS = 10_000;
/** Time between acquire attempts, and between renewals. */
export const RETRY_PERIOD_MS = 2_000;
/** Non-leaders wait RetryPeriod plus up to 120% more, so that candidates do not retry in step. */
export const JITTER_FACTOR = 1.2;

export interface LeaderCallbacks {
  /**
   * This candidate now leads. Start the leader's work; stop it when `signal` aborts, which
   * happens when leadership is lost or the elector is stopped.
   */
  onStartedLeading(signal: AbortSignal): void;
  /** This candidate no longer leads (called once, only after onStartedLeading). */
  onStoppedLeading(): void;
  /** The observed holder changed: its identity, "" when the lease was released. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  lease: LeaseClient;
  /** This candidate's unique identity, e.g. "<hostname>_<random>". */
  identity: string;
  callbacks: LeaderCallbacks;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /**
   * On stop, write the lease as released (holder "", duration 1 s) so a successor need not wait
   * out the lease. Safe only if the leader's work has ended once onStartedLeading's signal aborts.
   */
  releaseOnCancel?: boolean;
  /** Measures lease expiry: the local observation clock, never the holder's timestamps. */
  clock?: Clock;
  /** Wall time written into acquireTime and renewTime (informational for other readers). */
  wallClock?: () => Date;
  /** Uniform in [0, 1): retry jitter. */
  random?: () => number;
  onError?: ErrorReporter;
}

/**
 * One candidate. run() campaigns until it leads, then renews until it fails to renew within
 * renewDeadlineMs or the signal aborts; it then stops leading and returns. An elector runs once.
 */
export class LeaderElector {
  private readonly lease: LeaseClient;
  private readonly identity: string;
  private readonly callbacks: LeaderCallbacks;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly clock: Clock;
  private readonly wallClock: () => Date;
  private readonly random: () => number;
  private readonly onError: ErrorReporter;
  /** The lease as last read or written, and when (on our clock) it was first seen so. */
  private observed: StoredLeaseRecord | undefined;
  private observedAt = 0;
  private reportedLeader = "";
  private leading = false;
  private started = false;
  /** The record this elector last sent in a create or update (its answer may have been lost). */
  private lastSent: LeaseRecord | undefined;
  /** The attempt to read or write the lease that is under way, if any. */
  private inflight: Promise<boolean> | undefined;

  constructor(config: LeaderElectionConfig) {
    this.lease = config.lease;
    this.identity = config.identity;
    this.callbacks = config.callbacks;
    this.leaseDurationMs = config.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = config.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryPeriodMs = config.retryPeriodMs ?? RETRY_PERIOD_MS;
    this.releaseOnCancel = config.releaseOnCancel ?? false;
    this.clock = config.clock ?? realClock;
    this.wallClock = config.wallClock ?? (() => new Date());
    this.random = config.random ?? Math.random;
    this.onError = config.onError ?? logErrorAsJson;
    validate(this.identity, this.leaseDurationMs, this.renewDeadlineMs, this.retryPeriodMs);
  }

  /** True between onStartedLeading and onStoppedLeading. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this candidate last observed ("" if none yet, or released). */
  getLeader(): string {
    return this.observed?.record.holderIdentity ?? "";
  }

  /** Campaigns, leads, and returns once leadership is lost or `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.started)
      throw new Error(`leader elector ${this.identity} already ran; create a new one`);
    this.started = true;
    if (!(await this.acquire(signal))) return;
    const leadership = new AbortController();
    this.leading = true;
    this.guard("onStartedLeading", () => this.callbacks.onStartedLeading(leadership.signal));
    await this.renew(signal);
    leadership.abort();
    this.leading = false;
    if (this.releaseOnCancel) await this.release();
    this.guard("onStoppedLeading", () => this.callbacks.onStoppedLeading());
  }

  /** Tries every RetryPeriod (jittered) until the lease is ours; false if aborted first. */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    // One abort listener for the whole campaign, however many attempts it takes.
    const stopped = aborted(signal);
    while (!signal.aborted) {
      const acquired = await Promise.race([this.attempt(signal), stopped]);
      if (signal.aborted) return false;
      this.reportTransition();
      if (acquired) return true;
      const delay = this.retryPeriodMs * (1 + JITTER_FACTOR * this.random());
      await sleep(this.clock, delay, signal);
    }
    return false;
  }

  /**
   * Renews every RetryPeriod, starting one RetryPeriod after the acquiring write (client-go
   * renews at once, rewriting what it just wrote); returns when a renewal round fails or
   * `signal` aborts.
   */
  private async renew(signal: AbortSignal): Promise<void> {
    while (await sleep(this.clock, this.retryPeriodMs, signal)) {
      if (!(await this.renewWithinDeadline(signal))) return;
    }
  }

  /**
   * One renewal: tries now and then every RetryPeriod until it succeeds or RenewDeadline has
   * passed. At the deadline it gives up at once, even with a request in flight, so that the
   * leader never outlives the lease others see.
   */
  private async renewWithinDeadline(signal: AbortSignal): Promise<boolean> {
    const round = new AbortController();
    const onAbort = () => round.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const deadline = this.clock.setTimeout(() => round.abort(), this.renewDeadlineMs);
    const roundOver = aborted(round.signal);
    try {
      while (!round.signal.aborted) {
        const renewed = await Promise.race([this.attempt(round.signal), roundOver]);
        if (round.signal.aborted) break;
        this.reportTransition();
        if (renewed) return true;
        await sleep(this.clock, this.retryPeriodMs, round.signal);
      }
      if (!signal.aborted) {
        this.onError(
          new Error(
            `failed to renew lease ${this.lease.describe()} within ${this.renewDeadlineMs} ms`,
          ),
          `leader election: ${this.identity} lost leadership`,
        );
      }
      return false;
    } finally {
      this.clock.clearTimeout(deadline);
      signal.removeEventListener("abort", onAbort);
      round.abort();
    }
  }

  /** tryAcquireOrRenew, remembered as the attempt under way until it settles. */
  private attempt(signal: AbortSignal): Promise<boolean> {
    const attempt = this.tryAcquireOrRenew(signal);
    this.inflight = attempt;
    void attempt.finally(() => {
      if (this.inflight === attempt) this.inflight = undefined;
    });
    return attempt;
  }

  /**
   * client-go's tryAcquireOrRenew: read the lease; if another holder's lease has not expired by
   * our observation, give up for now; else write ourselves in, naming the resourceVersion read,
   * so that of two racing candidates only one wins. Any failure is "not this time".
   */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const wallNow = this.wallClock();
    const desired: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: wallNow,
      renewTime: wallNow,
      leaseTransitions: 0,
    };
    let current: StoredLeaseRecord | undefined;
    try {
      current = await this.lease.get(signal);
    } catch (error) {
      if (!signal.aborted)
        this.onError(error, `leader election: cannot read lease ${this.lease.describe()}`);
      return false;
    }
    if (signal.aborted) return false;

    if (current === undefined) {
      try {
        this.lastSent = desired;
        const created = await this.lease.create(desired, signal);
        // A write that landed is what the lease now holds, even if nobody waits for it.
        this.observe(created, this.clock.now());
        return !signal.aborted;
      } catch (error) {
        if (!signal.aborted)
          this.onError(error, `leader election: cannot create lease ${this.lease.describe()}`);
        return false;
      }
    }

    if (this.observed === undefined || !sameRecord(this.observed.record, current.record)) {
      this.observe(current, this.clock.now());
    } else {
      this.observed = current;
    }
    const holder = current.record.holderIdentity;
    const expiresAt = this.observedAt + current.record.leaseDurationSeconds * 1000;
    const heldByMe = holder === this.identity;
    if (holder !== "" && !heldByMe && expiresAt > now) return false;

    if (heldByMe) {
      desired.acquireTime = current.record.acquireTime;
      desired.leaseTransitions = current.record.leaseTransitions;
    } else {
      desired.leaseTransitions = current.record.leaseTransitions + 1;
    }
    try {
      this.lastSent = desired;
      const updated = await this.lease.update(desired, current.resourceVersion, signal);
      this.observe(updated, this.clock.now());
      return !signal.aborted;
    } catch (error) {
      // Usually a Conflict: another candidate wrote first and holds the lease now.
      if (!signal.aborted)
        this.onError(error, `leader election: cannot update lease ${this.lease.describe()}`);
      return false;
    }
  }

  /**
   * Writes the lease as free, if we hold it, so a successor need not wait it out. A renewal
   * still in flight when leadership ended may land first and move the lease's resourceVersion:
   * the release waits for it, and on a Conflict reads the lease again and retries only if the
   * lease still holds exactly the record this elector last sent (a renewal whose answer was
   * lost) — never when another writer, even one with the same identity (a restarted process),
   * has written since. Bounded by RenewDeadline, so that a hung API server cannot keep run() from
   * returning.
   */
  private async release(): Promise<void> {
    const timeout = new AbortController();
    const timer = this.clock.setTimeout(() => timeout.abort(), this.renewDeadlineMs);
    const expired = aborted(timeout.signal);
    try {
      const inflight = this.inflight;
      if (inflight !== undefined) await Promise.race([inflight.catch(() => false), expired]);
      let held = this.observed;
      for (let attempt = 0; attempt < 3 && !timeout.signal.aborted; attempt++) {
        if (held === undefined || held.record.holderIdentity !== this.identity) return;
        try {
          const result = await Promise.race([this.writeReleased(held, timeout.signal), expired]);
          if (result === false) break;
          this.observe(result, this.clock.now());
          return;
        } catch (error) {
          if (!isConflict(error)) throw error;
          // Written since we last looked: by our own renewal whose answer was lost, or by another.
          const fresh = await Promise.race([this.lease.get(timeout.signal), expired]);
          if (fresh === false) break;
          const sent = this.lastSent;
          if (fresh === undefined || sent === undefined || !sameRecord(fresh.record, sent)) return;
          this.observe(fresh, this.clock.now());
          held = fresh;
        }
      }
      if (timeout.signal.aborted) throw new Error(`no answer within ${this.renewDeadlineMs} ms`);
    } catch (error) {
      this.onError(error, `leader election: cannot release lease ${this.lease.describe()}`);
    } finally {
      this.clock.clearTimeout(timer);
      timeout.abort();
    }
  }

  private writeReleased(held: StoredLeaseRecord, signal: AbortSignal): Promise<StoredLeaseRecord> {
    const wallNow = this.wallClock();
    const released: LeaseRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: wallNow,
      renewTime: wallNow,
      leaseTransitions: held.record.leaseTransitions,
    };
    return this.lease.update(released, held.resourceVersion, signal);
  }

  private observe(lease: StoredLeaseRecord, at: number): void {
    this.observed = lease;
    this.observedAt = at;
  }

  private reportTransition(): void {
    const holder = this.getLeader();
    if (this.observed === undefined || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    const onNewLeader = this.callbacks.onNewLeader;
    if (onNewLeader !== undefined) this.guard("onNewLeader", () => onNewLeader(holder));
  }

  private guard(what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.onError(error, `leader election: callback ${what} threw`);
    }
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions &&
    a.acquireTime?.getTime() === b.acquireTime?.getTime() &&
    a.renewTime?.getTime() === b.renewTime?.getTime()
  );
}

/** A Conflict from the API (a stale resourceVersion), as ApiError or any error with that reason. */
function isConflict(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { reason?: unknown }).reason === "Conflict"
  );
}

function aborted(signal: AbortSignal): Promise<false> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(false);
    else signal.addEventListener("abort", () => resolve(false), { once: true });
  });
}

function validate(identity: string, leaseMs: number, renewMs: number, retryMs: number): void {
  if (identity === "")
    throw new RangeError("identity is empty: give each candidate a unique identity");
  if (!(retryMs > 0)) throw new RangeError(`retryPeriodMs must be > 0, got ${retryMs}`);
  if (!(leaseMs > renewMs)) {
    throw new RangeError(
      `leaseDurationMs (${leaseMs}) must be greater than renewDeadlineMs (${renewMs}): a leader must give up before others may take over`,
    );
  }
  if (!(renewMs > JITTER_FACTOR * retryMs)) {
    throw new RangeError(
      `renewDeadlineMs (${renewMs}) must be greater than retryPeriodMs * ${JITTER_FACTOR} (${JITTER_FACTOR * retryMs}): a renewal needs room for a retry`,
    );
  }
}
