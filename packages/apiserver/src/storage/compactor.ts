// Periodic compaction of the store's history, as kube-apiserver does it
// (k8s.io/apiserver/pkg/storage/etcd3/compact.go): every interval, compact to the revision seen
// one interval earlier, so watchers and continue tokens get at least one interval of history.
// Several API servers share the store: they agree through the key "compact_rev_key", whose
// version counts compactions, so that only one of them compacts per interval.

import { type EtcdClient, EtcdError } from "./etcd-client.js";

/** kube-apiserver's --etcd-compaction-interval default: 5 minutes. */
export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60_000;

/** The key kube-apiserver uses to coordinate compaction (kept so both can share an etcd). */
export const COMPACT_REV_KEY = "compact_rev_key";

export interface CompactorOptions {
  readonly intervalMs?: number;
  /** Called after this server compacted, with the revision compacted to. */
  readonly onCompacted?: (revision: number) => void;
  /** Called when a round failed (it is tried again next interval). */
  readonly onError?: (error: unknown) => void;
}

export class Compactor {
  /** Version of compact_rev_key as last seen: how many rounds all servers have done. */
  private lastVersion = 0;
  /** The store revision seen at the previous round: what the next round compacts to. */
  private lastRevision = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  readonly intervalMs: number;

  constructor(
    private readonly client: EtcdClient,
    private readonly options: CompactorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
    if (!(this.intervalMs > 0)) {
      throw new Error(`compaction interval: must be > 0 ms, got ${this.intervalMs}`);
    }
  }

  /** Runs a round now (recording the revision) and then every interval. */
  start(): void {
    if (this.timer !== undefined) return;
    const round = () => {
      if (this.running !== undefined) return;
      this.running = this.tick()
        .catch((e: unknown) => this.options.onError?.(e))
        .finally(() => {
          this.running = undefined;
        });
    };
    round();
    this.timer = setInterval(round, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer; resolves once a round in progress has finished. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * One round: claims the round by bumping compact_rev_key's version (from the version this
   * server last saw), then compacts to the revision the previous round saw. Returns the
   * revision compacted to, or undefined when there was nothing to do (first round) or another
   * server did this round.
   */
  async tick(): Promise<number | undefined> {
    const res = await this.client.putIfVersion(
      COMPACT_REV_KEY,
      Buffer.from(String(this.lastRevision)),
      this.lastVersion,
    );
    if (!res.succeeded) {
      // Another server compacted since our last round: follow its count and revision.
      this.lastVersion = res.current?.version ?? 0;
      this.lastRevision = res.revision;
      return undefined;
    }
    this.lastVersion += 1;
    const target = this.lastRevision;
    this.lastRevision = res.revision;
    if (target === 0) return undefined;
    try {
      await this.client.compact(target);
    } catch (e) {
      // Already compacted past it (by hand, or by a server that raced us): nothing lost.
      if (!(e instanceof EtcdError && e.code === "compacted")) throw e;
    }
    this.options.onCompacted?.(target);
    return target;
  }
}
