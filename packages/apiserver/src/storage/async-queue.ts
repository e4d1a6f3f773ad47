// A one-consumer async queue: producers push, the consumer iterates with for-await. Used for
// watch streams, whose producers are gRPC callbacks and timers.

/**
 * An AsyncIterable fed by push(). end() finishes the iteration after the queued items;
 * fail(e) makes the next read throw `e` after the queued items. The consumer may stop early
 * (break / return()), which calls `onReturn`. Items are not copied: producers must not
 * mutate what they pushed.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((e: unknown) => void) | undefined;
  private done = false;
  private error: unknown;
  private hasError = false;
  private readonly onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.onReturn = onReturn;
  }

  /** How many items wait to be read. */
  get length(): number {
    return this.items.length;
  }

  /** True once end() or fail() was called. */
  get closed(): boolean {
    return this.done;
  }

  push(item: T): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      this.failWaiter = undefined;
      waiter({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.hasError = true;
    this.error = error;
    this.wake();
  }

  private wake(): void {
    if (this.waiter === undefined || this.items.length > 0) return;
    const waiter = this.waiter;
    const failWaiter = this.failWaiter;
    this.waiter = undefined;
    this.failWaiter = undefined;
    if (this.hasError) failWaiter?.(this.error);
    else waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) {
      if (this.hasError) {
        this.hasError = false;
        return Promise.reject(this.error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = (e) => {
        this.hasError = false;
        reject(e);
      };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        this.items.length = 0;
        if (!this.done) {
          this.done = true;
          this.onReturn?.();
        }
        return { value: undefined, done: true };
      },
    };
  }
}
