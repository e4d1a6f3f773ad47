// What the MVCC keyspace keeps alive per revision, and what it costs the V8 GC: figures that
// the machine's load does not move (bytes and objects), plus GC time per 1000 puts.
//
//   node --expose-gc --conditions=source --import tsx packages/store/bench/keyspace-memory-bench.ts
//   (env KMB_ENTRY=leader: entries as the leader applies them, see ENTRY_KIND)
//
// Puts go through the path a member applies them by: encodePutRequest + encodeRequestBatch (the
// proposer's entry bytes, ENTRY_PUTS puts per entry), decodeBatch (every member's decode: keys
// and values are views into the entry's bytes), then Keyspace.put. Keys are bench:store's
// `bench/put/<w>/<n>` (64 workers x 1000 keys), values 256 bytes.
//
// 1. Live heap (this process): PUTS puts, then forced full GCs; the growth of V8's used heap
//    plus external memory (ArrayBuffer backing stores), and of the heap snapshot's node count
//    (every heap object: strings, arrays, typed arrays, ...), each per revision. Then the time
//    of a forced full GC with that heap (median of GC_REPEATS). Then compact at the current
//    revision and measure again per remaining key (what a compaction leaves pinned). Then
//    overwrite every key twice and time the compaction that drops those 2/3 of the history
//    (where the keyspace may repack its slabs).
// 2. Steady puts (a child process run with --trace-gc-nvp): STEADY_PUTS puts at STEADY_RATE
//    per second on a fresh keyspace; per 1000 puts: scavenges, their pause time, and
//    Mark-Compact pause time; per put: bytes allocated (as the scavenges count it), promoted
//    to old space, and surviving a scavenge (copied within new space or promoted); all of the
//    main isolate.
//
// Prints figures, then one JSON line with them all.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { Keyspace, type PutRequest } from "../src/mvcc/index.js";
import { encodePutRequest, encodeRequestBatch } from "../src/server/put-request-wire.js";
import { decodeBatch } from "../src/server/request-codec.js";

const PUTS = 100_000;
const WORKERS = 64;
const KEYS_PER_WORKER = 1000;
const VALUE_BYTES = 256;
/** Puts per Raft entry: what the leader batches at 64 clients is of this order. */
const ENTRY_PUTS = 16;
const GC_REPEATS = 5;
const STEADY_PUTS = 100_000;
/**
 * Puts per second in the steady run: ~3x what a member applies in bench:store's put64, to keep
 * the run at 10 s; GC work per put barely depends on the rate.
 */
const STEADY_RATE = 10_000;
const STEADY_TICK_MS = 10;

/**
 * The entry bytes a member applies: "follower" (default) a plain Uint8Array, as @tug/raft's
 * decodeMessage copies a received message; "leader" the Buffer encodeRequestBatch gave the
 * proposer. Decoded keys and values are views of it either way.
 */
const ENTRY_KIND = process.env.KMB_ENTRY === "leader" ? "leader" : "follower";

const enc = new TextEncoder();
const value = new Uint8Array(VALUE_BYTES).fill(120);

/** The i-th put's key: worker i % 64, key number (i / 64) % 1000, as bench:store's clients. */
function keyOf(i: number): Uint8Array {
  const w = i % WORKERS;
  const n = Math.floor(i / WORKERS) % KEYS_PER_WORKER;
  return enc.encode(`bench/put/${w}/${n}`);
}

/** Puts [from, to) as decoded entries, applied to ks. */
function applyPuts(ks: Keyspace, from: number, to: number): void {
  for (let i = from; i < to; i += ENTRY_PUTS) {
    const requests: Uint8Array[] = [];
    for (let j = i; j < Math.min(to, i + ENTRY_PUTS); j++) {
      const put: PutRequest = { key: keyOf(j), value };
      requests.push(encodePutRequest(1, j + 1, put) as Uint8Array);
    }
    const batch = encodeRequestBatch(requests);
    const entry = ENTRY_KIND === "leader" ? batch : new Uint8Array(batch);
    for (const r of decodeBatch(entry)) {
      if (r instanceof Error || r.op.type !== "put") throw new Error("not a decoded put");
      ks.put(r.op.put);
    }
  }
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run node with --expose-gc");
  collect();
  collect();
}

/** V8's used heap plus memory outside it that JS objects hold (ArrayBuffer backing stores). */
function liveBytes(): number {
  const h = v8.getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

/** The node count of a heap snapshot: read from its header, the rest of the stream dropped. */
async function heapObjects(): Promise<number> {
  const stream = v8.getHeapSnapshot();
  let head = "";
  for await (const chunk of stream) {
    head += String(chunk);
    const m = /"node_count":(\d+)/.exec(head);
    if (m !== null) {
      stream.destroy();
      return Number(m[1]);
    }
    if (head.length > 1 << 20) break;
  }
  throw new Error("no node_count in the heap snapshot header");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface LiveFigures {
  bytesPerRevision: number;
  objectsPerRevision: number;
  externalBytesPerRevision: number;
  fullGcMs: number;
  bytesPerKeyAfterCompaction: number;
  objectsPerKeyAfterCompaction: number;
  /** A compaction after every key was overwritten twice more: it drops 2/3 of the bytes. */
  compactMs: number;
}

async function measureLive(): Promise<LiveFigures> {
  // Warm the code paths on a throwaway keyspace, so that compiled code is in the baseline.
  applyPuts(new Keyspace(), 0, 20_000);
  // Bytes first, on their own keyspace: a heap snapshot leaves memory behind that would count.
  gc();
  const bytes0 = liveBytes();
  const external0 = v8.getHeapStatistics().external_memory;
  let ks = new Keyspace();
  applyPuts(ks, 0, PUTS);
  gc();
  const revisions = ks.revision - 1;
  const bytes1 = liveBytes();
  const external1 = v8.getHeapStatistics().external_memory;
  const times: number[] = [];
  for (let i = 0; i < GC_REPEATS; i++) {
    const t0 = performance.now();
    (globalThis as { gc?: () => void }).gc?.();
    times.push(performance.now() - t0);
  }
  ks.compact(ks.revision);
  gc();
  const all = { key: enc.encode("\0"), rangeEnd: enc.encode("\0"), countOnly: true };
  const keys = ks.range(all).count;
  const bytes2 = liveBytes();
  applyPuts(ks, 0, 2 * WORKERS * KEYS_PER_WORKER);
  const t0 = performance.now();
  ks.compact(ks.revision);
  const compactMs = performance.now() - t0;
  // Then objects, on a second keyspace built the same way.
  ks = new Keyspace();
  gc();
  const objects0 = await heapObjects();
  applyPuts(ks, 0, PUTS);
  gc();
  const objects1 = await heapObjects();
  ks.compact(ks.revision);
  gc();
  const objects2 = await heapObjects();
  return {
    bytesPerRevision: (bytes1 - bytes0) / revisions,
    objectsPerRevision: (objects1 - objects0) / revisions,
    externalBytesPerRevision: (external1 - external0) / revisions,
    fullGcMs: median(times),
    bytesPerKeyAfterCompaction: (bytes2 - bytes0) / keys,
    compactMs,
    objectsPerKeyAfterCompaction: (objects2 - objects0) / keys,
  };
}

/** The child's part: steady puts, its GC traced by --trace-gc-nvp on stdout. */
async function steady(): Promise<void> {
  const ks = new Keyspace();
  const perTick = Math.round((STEADY_RATE * STEADY_TICK_MS) / 1000);
  const start = performance.now();
  for (let i = 0; i < STEADY_PUTS; i += perTick) {
    applyPuts(ks, i, Math.min(STEADY_PUTS, i + perTick));
    const due = start + ((i + perTick) / STEADY_RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  process.stdout.write(`STEADY-DONE ${ks.revision - 1}\n`);
}

interface SteadyFigures {
  scavengesPer1000: number;
  scavengeMsPer1000: number;
  allocatedBytesPerPut: number;
  promotedBytesPerPut: number;
  survivedBytesPerPut: number;
  markCompactsPer1000: number;
  markCompactMsPer1000: number;
}

function measureSteady(): SteadyFigures {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, "--trace-gc-nvp", self, "--steady"],
    { encoding: "utf8", maxBuffer: 256 << 20 },
  );
  if (child.status !== 0) {
    throw new Error(`steady run exited ${child.status}: ${child.stderr.slice(-2000)}`);
  }
  let scavenges = 0;
  let scavengeMs = 0;
  let allocated = 0;
  let promoted = 0;
  let survived = 0;
  let markCompacts = 0;
  let markCompactMs = 0;
  let done = false;
  for (const line of child.stdout.split("\n")) {
    if (line.startsWith("STEADY-DONE")) done = true;
    const kind = / gc=(\w+) /.exec(line)?.[1];
    if (kind === undefined) continue;
    const field = (name: string): number =>
      Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    const pause = field("pause");
    if (kind === "s") {
      scavenges++;
      scavengeMs += pause;
      // V8 prints a negative allocation as an unsigned 64-bit number: leave such a line out.
      const bytes = field("allocated");
      if (bytes < 2 ** 40) allocated += bytes;
      promoted += field("promoted");
      survived += field("new_space_survived");
    } else if (kind === "mc" || kind === "mmc") {
      markCompacts++;
      markCompactMs += pause;
    }
  }
  if (!done) throw new Error("the steady run did not finish");
  const k = STEADY_PUTS / 1000;
  return {
    scavengesPer1000: scavenges / k,
    scavengeMsPer1000: scavengeMs / k,
    allocatedBytesPerPut: allocated / STEADY_PUTS,
    promotedBytesPerPut: promoted / STEADY_PUTS,
    survivedBytesPerPut: survived / STEADY_PUTS,
    markCompactsPer1000: markCompacts / k,
    markCompactMsPer1000: markCompactMs / k,
  };
}

async function main(): Promise<void> {
  if (process.argv.includes("--steady")) {
    await steady();
    return;
  }
  const live = await measureLive();
  const f = (n: number, d = 1) => n.toFixed(d).padStart(10);
  console.log(
    `${PUTS} puts of ${VALUE_BYTES} B over ${WORKERS * KEYS_PER_WORKER} keys, ${ENTRY_KIND} entries`,
  );
  console.log(`live heap bytes per revision           ${f(live.bytesPerRevision)}`);
  console.log(`  of which external (ArrayBuffers)     ${f(live.externalBytesPerRevision)}`);
  console.log(`heap objects per revision              ${f(live.objectsPerRevision, 2)}`);
  console.log(`forced full GC, ms (median of ${GC_REPEATS})       ${f(live.fullGcMs, 2)}`);
  console.log(`after compact: live bytes per key      ${f(live.bytesPerKeyAfterCompaction)}`);
  console.log(`compact of 2/3 of 192k revisions, ms   ${f(live.compactMs, 2)}`);
  console.log(`after compact: heap objects per key    ${f(live.objectsPerKeyAfterCompaction, 2)}`);
  const st = measureSteady();
  console.log(`${STEADY_PUTS} steady puts at ${STEADY_RATE}/s (--trace-gc-nvp), per 1000 puts:`);
  console.log(`  scavenges                            ${f(st.scavengesPer1000, 2)}`);
  console.log(`  scavenge pause ms                    ${f(st.scavengeMsPer1000, 2)}`);
  console.log(`  Mark-Compacts                        ${f(st.markCompactsPer1000, 3)}`);
  console.log(`  Mark-Compact pause ms                ${f(st.markCompactMsPer1000, 2)}`);
  console.log(`bytes allocated per put                ${f(st.allocatedBytesPerPut)}`);
  console.log(`bytes promoted per put                 ${f(st.promotedBytesPerPut)}`);
  console.log(`bytes surviving a scavenge per put     ${f(st.survivedBytesPerPut)}`);
  console.log(JSON.stringify({ entry: ENTRY_KIND, ...live, ...st }));
}

await main();
