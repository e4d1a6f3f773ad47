// The watch cache's history of recent events, kept as kube-apiserver's watchCache keeps it
// (k8s.io/apiserver/pkg/storage/cacher/watch_cache.go): at least `minEvents`, and beyond that
// every event younger than `freshMs` (eventFreshDuration, 75 s: a little over the one-minute
// bookmark interval, so a watcher that resumes from its last bookmark or event finds its
// resourceVersion still in the window instead of getting Expired and listing everything
// again), up to `maxEvents` (defaultUpperBoundCapacity, 100 * 1024) to bound memory.

/** kube-apiserver's eventFreshDuration. */
export const DEFAULT_EVENT_FRESH_MS = 75_000;
/** kube-apiserver's defaultUpperBoundCapacity. */
export const DEFAULT_MAX_EVENT_WINDOW = 100 * 1024;

/** Dropped events are cut from the array in batches of at least this many (amortised O(1)). */
const COMPACT_AFTER = 1024;

export interface WindowedEvent {
  readonly revision: number;
}

export interface EventWindowLimits {
  /** Events always kept, however old. */
  readonly minEvents: number;
  /** Events younger than this are kept beyond minEvents... */
  readonly freshMs: number;
  /** ...up to this many in all. */
  readonly maxEvents: number;
}

/** Events in revision order; the oldest are dropped per EventWindowLimits. */
export class EventWindow<E extends WindowedEvent> {
  private events: E[] = [];
  /** When each event was added, parallel to `events`. */
  private addedAt: number[] = [];
  /** Index of the oldest kept event in `events`; those before it are dropped. */
  private head = 0;
  /** Every event after this revision is in the window. */
  private startRevision = 0;

  constructor(
    private readonly limits: EventWindowLimits,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Events after this revision are all in the window (older ones may have been dropped). */
  get start(): number {
    return this.startRevision;
  }

  get size(): number {
    return this.events.length - this.head;
  }

  /** Empties the window: it now covers the events after `revision`. */
  reset(revision: number): void {
    this.events = [];
    this.addedAt = [];
    this.head = 0;
    this.startRevision = revision;
  }

  /** Adds the newest event, then drops the oldest ones the limits no longer keep. */
  push(event: E): void {
    const now = this.now();
    this.events.push(event);
    this.addedAt.push(now);
    const { minEvents, freshMs, maxEvents } = this.limits;
    while (this.size > minEvents) {
      const oldest = this.head;
      if (this.size <= maxEvents && now - (this.addedAt[oldest] as number) < freshMs) break;
      this.startRevision = (this.events[oldest] as E).revision;
      this.head++;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.events.length) {
      this.events = this.events.slice(this.head);
      this.addedAt = this.addedAt.slice(this.head);
      this.head = 0;
    }
  }

  /** The kept events after `revision`, oldest first. */
  *after(revision: number): Generator<E> {
    // The first kept event past `revision` (events are in revision order).
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.events[mid] as E).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.events.length; i++) yield this.events[i] as E;
  }
}
