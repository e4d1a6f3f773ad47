// One worker per pod uid (the kubelet's podWorkers): syncs of the same pod never overlap, a
// request that arrives during a sync runs once after it, and a sync may ask to run again later
// (a back-off expiring). A failed sync is retried with a doubling delay.

/** The first retry delay of a sync that threw. */
const ERROR_RETRY_INITIAL_MS = 1_000;
/** The longest retry delay of a sync that keeps throwing. */
const ERROR_RETRY_MAX_MS = 30_000;

interface WorkerState {
  running: boolean;
  dirty: boolean;
  timer: NodeJS.Timeout | undefined;
  dueAt: number;
  errorDelayMs: number;
}

/** Runs `sync(uid)` serialized per uid; `sync` returns when to run again (ms) or undefined. */
export class PodWorkers {
  private readonly states = new Map<string, WorkerState>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly sync: (uid: string) => Promise<number | undefined>,
    private readonly onError: (uid: string, e: unknown) => void,
  ) {}

  /** Asks for a sync of `uid` after `delayMs` (0: now, or right after the running one). */
  enqueue(uid: string, delayMs = 0): void {
    if (this.stopped) return;
    let st = this.states.get(uid);
    if (st === undefined) {
      st = { running: false, dirty: false, timer: undefined, dueAt: 0, errorDelayMs: 0 };
      this.states.set(uid, st);
    }
    if (delayMs > 0) {
      const due = Date.now() + delayMs;
      if (st.timer !== undefined && st.dueAt <= due) return;
      clearTimeout(st.timer);
      st.dueAt = due;
      st.timer = setTimeout(() => {
        const s = this.states.get(uid);
        if (s !== undefined) s.timer = undefined;
        this.enqueue(uid);
      }, delayMs);
      return;
    }
    if (st.running) {
      st.dirty = true;
      return;
    }
    const state = st;
    state.running = true;
    const p = this.run(uid, state).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async run(uid: string, st: WorkerState): Promise<void> {
    do {
      st.dirty = false;
      try {
        const again = await this.sync(uid);
        st.errorDelayMs = 0;
        if (again !== undefined && !this.stopped) this.enqueue(uid, Math.max(again, 1));
      } catch (e) {
        this.onError(uid, e);
        st.errorDelayMs = Math.min(
          st.errorDelayMs === 0 ? ERROR_RETRY_INITIAL_MS : st.errorDelayMs * 2,
          ERROR_RETRY_MAX_MS,
        );
        if (!this.stopped) this.enqueue(uid, st.errorDelayMs);
      }
    } while (st.dirty && !this.stopped);
    st.running = false;
  }

  /** Drops the bookkeeping of a uid whose pod is gone for good. */
  forget(uid: string): void {
    const st = this.states.get(uid);
    if (st === undefined || st.running) return;
    clearTimeout(st.timer);
    this.states.delete(uid);
  }

  /** The uids with a worker. */
  uids(): string[] {
    return [...this.states.keys()];
  }

  /** Stops scheduling and waits for the running syncs. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const st of this.states.values()) clearTimeout(st.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}
