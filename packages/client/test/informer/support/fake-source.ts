// An in-memory API collection with a revision counter, a bounded history that can be compacted,
// paginated lists and watch streams the test can end, break or expire.
import type {
  ListerWatcher,
  ListOptions,
  ListResult,
  WatchEvent,
  WatchOptions,
} from "../../../src/informer/lister-watcher.js";
import { ResourceExpiredError } from "../../../src/informer/lister-watcher.js";
import type { TestPod } from "./objects.js";

type Key = string;

function keyOf(obj: TestPod): Key {
  const m = obj.metadata!;
  return m.namespace === "" ? m.name : `${m.namespace}/${m.name}`;
}

class FakeWatch implements AsyncIterator<WatchEvent<TestPod>> {
  private readonly queue: WatchEvent<TestPod>[] = [];
  private waiter: ((r: IteratorResult<WatchEvent<TestPod>>) => void) | undefined;
  private failWaiter: ((e: unknown) => void) | undefined;
  private ended = false;
  private error: unknown;
  closed = false;

  constructor(
    readonly fromRv: number,
    signal: AbortSignal,
    private readonly onClose: (w: FakeWatch) => void,
  ) {
    signal.addEventListener("abort", () => this.end(), { once: true });
  }

  push(event: WatchEvent<TestPod>): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      this.failWaiter = undefined;
      w({ done: false, value: event });
    } else this.queue.push(event);
  }

  end(): void {
    this.fail(undefined);
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.close();
    if (this.waiter !== undefined) {
      const w = this.waiter;
      const f = this.failWaiter!;
      this.waiter = undefined;
      this.failWaiter = undefined;
      if (error === undefined) w({ done: true, value: undefined });
      else f(error);
    }
  }

  next(): Promise<IteratorResult<WatchEvent<TestPod>>> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.ended) {
      if (this.error !== undefined) {
        const e = this.error;
        this.error = undefined;
        return Promise.reject(e);
      }
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  return(): Promise<IteratorResult<WatchEvent<TestPod>>> {
    this.ended = true;
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}

export interface ListCall {
  resourceVersion: string | undefined;
  limit: number | undefined;
  continue: string | undefined;
}

export class FakeSource implements ListerWatcher<TestPod> {
  private rv = 1;
  private readonly objects = new Map<Key, TestPod>();
  private history: { rv: number; event: WatchEvent<TestPod> }[] = [];
  /** Watches from a version below this are Expired. */
  private compactedRv = 0;
  private readonly open = new Set<FakeWatch>();
  /** Continue tokens are valid only while this generation lasts. */
  private tokenGeneration = 0;
  readonly listCalls: ListCall[] = [];
  readonly watchCalls: { resourceVersion: string; allowWatchBookmarks: boolean }[] = [];
  private listFailures: unknown[] = [];
  private watchFailures: unknown[] = [];

  get resourceVersion(): number {
    return this.rv;
  }

  openWatches(): number {
    return this.open.size;
  }

  upsert(obj: TestPod): TestPod {
    const key = keyOf(obj);
    const type = this.objects.has(key) ? "MODIFIED" : "ADDED";
    this.rv++;
    const stored = structuredClone(obj);
    stored.metadata!.resourceVersion = String(this.rv);
    this.objects.set(key, stored);
    this.record({ type, object: stored });
    return structuredClone(stored);
  }

  remove(key: Key): void {
    const obj = this.objects.get(key);
    if (obj === undefined) throw new Error(`fake source: no object ${key}`);
    this.rv++;
    this.objects.delete(key);
    const last = structuredClone(obj);
    last.metadata!.resourceVersion = String(this.rv);
    this.record({ type: "DELETED", object: last });
  }

  /** Forgets history up to the current version: older watches and continue tokens expire. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
    this.tokenGeneration++;
  }

  bookmark(): void {
    const event: WatchEvent<TestPod> = {
      type: "BOOKMARK",
      object: {
        metadata: {
          name: "",
          namespace: "",
          resourceVersion: String(this.rv),
          uid: "",
          labels: {},
        },
        spec: { nodeName: "" },
      },
    };
    for (const w of this.open) w.push(event);
  }

  endWatches(): void {
    for (const w of [...this.open]) w.end();
  }

  breakWatches(error: unknown): void {
    for (const w of [...this.open]) w.fail(error);
  }

  expireWatches(): void {
    this.breakWatches(new ResourceExpiredError("too old resource version"));
  }

  failNextList(error: unknown): void {
    this.listFailures.push(error);
  }

  failNextWatch(error: unknown): void {
    this.watchFailures.push(error);
  }

  async list(options: ListOptions): Promise<ListResult<TestPod>> {
    this.listCalls.push({
      resourceVersion: options.resourceVersion,
      limit: options.limit,
      continue: options.continue,
    });
    const failure = this.listFailures.shift();
    if (failure !== undefined) throw failure;
    const limit = options.limit ?? 0;
    let offset = 0;
    let atRv = this.rv;
    if (options.continue !== undefined) {
      const [gen, off, rv] = options.continue.split(":").map(Number);
      if (gen !== this.tokenGeneration) throw new ResourceExpiredError("continue token expired");
      offset = off!;
      atRv = rv!;
    } else if (
      options.resourceVersion !== undefined &&
      options.resourceVersion !== "" &&
      options.resourceVersion !== "0"
    ) {
      if (Number(options.resourceVersion) < this.compactedRv) {
        throw new ResourceExpiredError("too old resource version");
      }
    }
    // Lists are read at the latest version; pages of one list must not change under the test.
    const all = [...this.objects.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => o);
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const more = limit > 0 && offset + limit < all.length;
    return {
      items: page.map((o) => structuredClone(o)),
      resourceVersion: String(atRv),
      ...(more && { continue: `${this.tokenGeneration}:${offset + limit}:${atRv}` }),
    };
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent<TestPod>> {
    this.watchCalls.push({
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks,
    });
    const from = Number(options.resourceVersion);
    const w = new FakeWatch(from, options.signal, (closed) => this.open.delete(closed));
    const failure = this.watchFailures.shift();
    if (failure !== undefined) w.fail(failure);
    else if (from < this.compactedRv) w.fail(new ResourceExpiredError("too old resource version"));
    else {
      this.open.add(w);
      for (const h of this.history) if (h.rv > from) w.push(clone(h.event));
    }
    return { [Symbol.asyncIterator]: () => w };
  }

  private record(event: WatchEvent<TestPod>): void {
    this.history.push({ rv: this.rv, event });
    for (const w of this.open) if (this.rv > w.fromRv) w.push(clone(event));
  }
}

function clone(event: WatchEvent<TestPod>): WatchEvent<TestPod> {
  return { type: event.type, object: structuredClone(event.object) };
}
