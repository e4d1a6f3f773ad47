// Where the scheduler's Event writes wait their turn. Events are best effort: client-go's
// broadcaster queues at most 1000 of them and drops new ones while the queue is full
// (watch.NewLongQueueBroadcaster(1000, DropIfChannelFull)), and writes them to the API one at
// a time. Without such a bound, a burst of pods turns into as many concurrent Event creates,
// which compete with the Bind calls and the Lease renewals for the API server and the store:
// under load the scheduler then loses its Lease to its own events.
// https://github.com/kubernetes/client-go/blob/master/tools/record/event.go (maxQueuedEvents)

/** client-go's maxQueuedEvents. */
export const DEFAULT_MAX_QUEUED_EVENTS = 1000;
/**
 * Event writes in flight at once: 1, as client-go's recorder, whose one watcher of the
 * broadcaster writes each event to the API before taking the next. More in flight write more
 * of a burst's events, each a create that costs the API server and the store about as much as
 * the pod's own create: with 4 in flight, a 10 000-pod burst wrote 2 200 Scheduled events, one
 * write in ten of the run (docs/scheduler.md).
 */
export const DEFAULT_MAX_EVENT_WRITES_IN_FLIGHT = 1;

export interface EventSinkOptions {
  readonly maxQueued?: number;
  readonly maxInFlight?: number;
}

/**
 * Runs event writes with at most `maxInFlight` at once and at most `maxQueued` waiting; a
 * write submitted while the queue is full is dropped (counted in `dropped`). A write's
 * failure is its own to report: the sink only waits for it to settle.
 */
export class EventSink {
  /** At most maxQueued long, so shift() stays cheap. */
  private readonly queue: (() => Promise<unknown>)[] = [];
  private inFlight = 0;
  private readonly maxQueued: number;
  private readonly maxInFlight: number;
  /** Writes dropped because the queue was full. */
  dropped = 0;

  constructor(options: EventSinkOptions = {}) {
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_EVENTS;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_EVENT_WRITES_IN_FLIGHT;
  }

  /** Writes waiting for a turn. */
  get queued(): number {
    return this.queue.length;
  }

  /** Starts `write` now, or queues it; false when it was dropped. */
  submit(write: () => Promise<unknown>): boolean {
    if (this.inFlight < this.maxInFlight) {
      this.start(write);
      return true;
    }
    if (this.dropIfFull()) return false;
    this.queue.push(write);
    return true;
  }

  /**
   * True, counting a dropped write, when a submit now would be dropped: lets a caller skip
   * building a write that has no room (under a burst, most of them).
   */
  dropIfFull(): boolean {
    if (this.inFlight < this.maxInFlight || this.queued < this.maxQueued) return false;
    this.dropped++;
    return true;
  }

  private start(write: () => Promise<unknown>): void {
    this.inFlight++;
    let settled: Promise<unknown>;
    try {
      settled = write();
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled
      .catch(() => undefined)
      .then(() => {
        this.inFlight--;
        const next = this.queue.shift();
        if (next !== undefined) this.start(next);
      });
  }
}
