// The bounded window of MsgApp sent to one follower and not yet acknowledged (flow control).
// Each slot records the last index a message carried and its payload size in bytes.

export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  /**
   * @param capacity  the most messages in flight at once (etcd's MaxInflightMsgs)
   * @param maxBytes  the most payload bytes in flight at once; 0 means no byte limit
   */
  constructor(
    readonly capacity: number,
    readonly maxBytes = 0,
  ) {}

  /** Records a message whose last entry is `index`. Indexes must be added in increasing order. */
  add(index: number, bytes: number): void {
    this.indexes.push(index);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    let n = 0;
    while (n < this.indexes.length && (this.indexes[n] ?? 0) <= to) {
      this.bytes -= this.sizes[n] ?? 0;
      n++;
    }
    this.indexes.splice(0, n);
    this.sizes.splice(0, n);
  }

  /** Frees the oldest message: a heartbeat answer shows the follower is alive but says nothing of which append it got. */
  freeFirstOne(): void {
    if (this.indexes.length === 0) return;
    this.bytes -= this.sizes[0] ?? 0;
    this.indexes.shift();
    this.sizes.shift();
  }

  full(): boolean {
    return (
      this.indexes.length >= this.capacity || (this.maxBytes > 0 && this.bytes >= this.maxBytes)
    );
  }

  count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}
