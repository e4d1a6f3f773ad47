// The restart back-off of crashing containers (the kubelet's flowcontrol.Backoff keyed by
// pod and container): the first restart is immediate; each further one waits twice as long as
// the last, from 10 s up to 5 min; a container that ran without failing for 10 min starts
// over at 10 s. While waiting, the container's state is CrashLoopBackOff.

/** The first back-off (the kubelet's initial container restart back-off, 10 s). */
export const INITIAL_BACK_OFF_MS = 10_000;
/** The longest back-off (the kubelet's MaxContainerBackOff, 300 s). */
export const MAX_BACK_OFF_MS = 300_000;
/** A container that ran this long without failing starts over at the initial back-off. */
export const BACK_OFF_RESET_MS = 600_000;

interface Entry {
  delayMs: number;
  /** When the last restart was allowed (ms since the epoch). */
  lastRestartMs: number;
}

/** Per-key exponential back-off; `now` is injected for tests. */
export class RestartBackOff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs = INITIAL_BACK_OFF_MS,
    private readonly maxMs = MAX_BACK_OFF_MS,
    private readonly resetMs = BACK_OFF_RESET_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Milliseconds left before the container that failed at `finishedAtMs` may restart; 0 when
   * it may restart now.
   */
  remainingMs(key: string, finishedAtMs: number): number {
    const entry = this.entries.get(key);
    if (entry === undefined) return 0;
    // Ran long enough since the last restart: the record has expired.
    if (finishedAtMs - entry.lastRestartMs > this.resetMs) return 0;
    return Math.max(0, finishedAtMs + entry.delayMs - this.now());
  }

  /** The current delay of `key` (for the CrashLoopBackOff message); the initial one if none. */
  delayMs(key: string): number {
    return this.entries.get(key)?.delayMs ?? this.initialMs;
  }

  /** Records a restart: the next failure waits the initial delay, or twice the last one. */
  restarted(key: string, finishedAtMs: number): void {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry === undefined || finishedAtMs - entry.lastRestartMs > this.resetMs) {
      this.entries.set(key, { delayMs: this.initialMs, lastRestartMs: now });
    } else {
      entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
      entry.lastRestartMs = now;
    }
  }

  /** Forgets every key starting with `prefix` (a pod that is gone). */
  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}

/** Go's time.Duration String of whole seconds, as the kubelet prints back-offs ("5m0s", "40s"). */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m > 0 ? `${m}m${s}s` : `${s}s`;
}
