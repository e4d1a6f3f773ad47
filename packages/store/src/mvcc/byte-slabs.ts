// The keyspace's copies of keys and values, packed into shared slabs, as Node's Buffer pool
// packs small Buffers (https://nodejs.org/api/buffer.html#static-method-bufferallocunsafesize).
//
// Why: history is kept until compaction, so every put leaves its value alive for minutes. A
// value copied into its own ArrayBuffer is a JSArrayBuffer, a backing store outside the heap
// and its ArrayBufferExtension, all of which every scavenge that survives it copies or sweeps
// and every Mark-Compact marks and sweeps (sweep_array_buffers). A view into a shared slab is
// one small heap object. Copying also stops the keyspace from pinning the bytes it was given
// (a decoded Raft entry, or a Buffer-pool slab behind a request's key).
//
// What a view pins: its whole slab. After a compaction drops most of a slab's bytes, the slab
// stays alive while any byte string in it is still held. The slabs track their live bytes, so
// that the keyspace can tell when the slabs it still references hold more than twice its live
// bytes (plus REPACK_SLACK_SLABS slabs) and repack: move the byte strings of every slab less
// than half live into the current one, after which each slab it holds is at least half live.
// So the memory the keyspace pins stays below 2 x its live key and value bytes +
// (REPACK_SLACK_SLABS + 1) x SLAB_BYTES, plus whatever views callers still hold (each keeps
// its slab, at most SLAB_BYTES).

/** Bytes per slab: 64 KiB, eight times Node's Buffer pool. */
export const SLAB_BYTES = 64 * 1024;
/** Byte strings longer than this get their own ArrayBuffer: a slab holds 16 of them at least. */
export const MAX_SLABBED_BYTES = SLAB_BYTES / 16;
/** Slabs beyond 2 x the live bytes tolerated before the keyspace repacks. */
const REPACK_SLACK_SLABS = 4;

export const EMPTY_BYTES = new Uint8Array(0);

export class ByteSlabs {
  private slab: Uint8Array = EMPTY_BYTES;
  private used = 0;
  /** Live bytes of each slab but the current one, which holds `currentLive`. */
  private readonly live = new Map<ArrayBufferLike, number>();
  private currentLive = 0;
  private liveTotal = 0;

  /**
   * A copy of `bytes` that the caller may keep: EMPTY_BYTES when empty, else a view into a
   * shared slab (or, beyond MAX_SLABBED_BYTES, a Uint8Array of its own). Pair it with one
   * release() when the copy is dropped.
   */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.length;
    if (n === 0) return EMPTY_BYTES;
    if (n > MAX_SLABBED_BYTES) return new Uint8Array(bytes);
    if (this.used + n > this.slab.length) {
      if (this.currentLive > 0) this.live.set(this.slab.buffer, this.currentLive);
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
      this.currentLive = 0;
    }
    const at = this.used;
    this.slab.set(bytes, at);
    this.used = at + n;
    this.currentLive += n;
    this.liveTotal += n;
    return this.slab.subarray(at, at + n);
  }

  /**
   * Whether `copy` lies in a slab whose live bytes fill less than half of it (never the slab
   * being filled): what a repack moves.
   */
  sparse(copy: Uint8Array): boolean {
    const n = copy.length;
    if (n === 0 || n > MAX_SLABBED_BYTES) return false;
    const buf = copy.buffer;
    return buf !== this.slab.buffer && (this.live.get(buf) ?? 0) < SLAB_BYTES / 2;
  }

  /** For a repack: a new copy() of `copy`, which is released. */
  move(copy: Uint8Array): Uint8Array {
    const moved = this.copy(copy);
    this.release(copy);
    return moved;
  }

  /** Records that a copy() result is no longer held by the keyspace. */
  release(copy: Uint8Array): void {
    const n = copy.length;
    if (n === 0 || n > MAX_SLABBED_BYTES) return;
    this.liveTotal -= n;
    const buf = copy.buffer;
    if (buf === this.slab.buffer) {
      this.currentLive -= n;
      return;
    }
    const left = (this.live.get(buf) ?? n) - n;
    if (left > 0) this.live.set(buf, left);
    else this.live.delete(buf);
  }

  /** Bytes of the slabs that still hold live copies (the current slab counted whole). */
  heldBytes(): number {
    return (this.live.size + (this.currentLive > 0 ? 1 : 0)) * SLAB_BYTES;
  }

  /** Live bytes of copies in slabs. */
  liveBytes(): number {
    return this.liveTotal;
  }

  /** Whether the held slabs exceed the bound in the module comment: time to repack. */
  fragmented(): boolean {
    return this.heldBytes() > 2 * this.liveTotal + REPACK_SLACK_SLABS * SLAB_BYTES;
  }
}
