// Property: under many workers and heavy concurrent adds, a key is never held by two workers
// at once, and every add is followed by a processing of that key that starts after it.
// A failure names its seed; rerun one seed by putting it in SEEDS.
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/workqueue/fake-clock.js";
import { WorkQueue } from "../../src/workqueue/queue.js";
import { RateLimitingQueue } from "../../src/workqueue/rate-limiting-queue.js";
import { runWorkers } from "../../src/workqueue/run-workers.js";
import { type SeededRandom, seededRandom } from "./seeded-random.js";

const SEEDS = Array.from({ length: 150 }, (_, i) => i + 1);
const ADDS_PER_SEED = 400;
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

async function yieldSome(rng: SeededRandom): Promise<void> {
  const n = rng.int(5);
  for (let i = 0; i < n; i++) await Promise.resolve();
}

interface Tracker {
  step: number;
  readonly holders: Map<string, number>;
  readonly lastAdd: Map<string, number>;
  readonly lastSuccessStart: Map<string, number>;
  readonly violations: string[];
}

function newTracker(): Tracker {
  return {
    step: 0,
    holders: new Map(),
    lastAdd: new Map(),
    lastSuccessStart: new Map(),
    violations: [],
  };
}

/** Runs `work` as worker `id` holding `key`, recording overlaps. Returns the start step. */
async function hold(
  t: Tracker,
  id: number,
  key: string,
  work: () => Promise<void>,
): Promise<number> {
  const other = t.holders.get(key);
  if (other !== undefined)
    t.violations.push(`key ${key} given to worker ${id} while worker ${other} holds it`);
  t.holders.set(key, id);
  const start = ++t.step;
  try {
    await work();
  } finally {
    t.holders.delete(key);
  }
  return start;
}

function unprocessedAdds(t: Tracker): string[] {
  const missed: string[] = [];
  for (const [key, addedAt] of t.lastAdd) {
    if ((t.lastSuccessStart.get(key) ?? 0) < addedAt) missed.push(key);
  }
  return missed;
}

describe("workqueue exclusivity (seeded property)", () => {
  it("never hands one key to two workers, and loses no add (WorkQueue, hand-written workers)", async () => {
    for (const seed of SEEDS) {
      const rng = seededRandom(seed);
      const q = new WorkQueue();
      const t = newTracker();
      const workers = 2 + rng.int(10);
      const keys = 1 + rng.int(15);
      const worker = async (id: number): Promise<void> => {
        for (;;) {
          const item = await q.get();
          if (item.shutdown) return;
          const start = await hold(t, id, item.key, () => yieldSome(rng));
          t.lastSuccessStart.set(item.key, start);
          q.done(item.key);
        }
      };
      const running = Array.from({ length: workers }, (_, id) => worker(id));
      for (let i = 0; i < ADDS_PER_SEED; i++) {
        const key = `k${rng.int(keys)}`;
        q.add(key);
        t.lastAdd.set(key, ++t.step);
        if (rng.next() < 0.5) await yieldSome(rng);
      }
      for (let spins = 0; (q.len() > 0 || q.processingCount() > 0) && spins < 1000; spins++) {
        await macrotask();
      }
      q.shutDown();
      await Promise.all(running);
      expect(t.violations, `seed ${seed}`).toEqual([]);
      expect(unprocessedAdds(t), `seed ${seed}: keys added but not processed afterwards`).toEqual(
        [],
      );
    }
  });

  it("never hands one key to two workers under runWorkers with failures and back-off", async () => {
    for (const seed of SEEDS) {
      const rng = seededRandom(seed);
      const clock = new FakeClock();
      const q = new RateLimitingQueue({ clock });
      const t = newTracker();
      const workers = 2 + rng.int(10);
      const keys = 1 + rng.int(15);
      let attempt = 0;
      const running = runWorkers(q, workers, async (key) => {
        const start = await hold(t, attempt++, key, () => yieldSome(rng));
        if (rng.next() < 0.25) throw new Error("transient");
        t.lastSuccessStart.set(key, start);
      });
      for (let i = 0; i < ADDS_PER_SEED; i++) {
        const key = `k${rng.int(keys)}`;
        q.add(key);
        t.lastAdd.set(key, ++t.step);
        if (rng.next() < 0.5) await yieldSome(rng);
        if (rng.next() < 0.1) clock.advance(rng.int(20));
      }
      for (
        let spins = 0;
        (q.len() > 0 || q.processingCount() > 0 || q.waitingCount() > 0) && spins < 10_000;
        spins++
      ) {
        clock.advance(50);
        await macrotask();
      }
      q.shutDown();
      await running;
      expect(t.violations, `seed ${seed}`).toEqual([]);
      expect(unprocessedAdds(t), `seed ${seed}: keys added but not reconciled afterwards`).toEqual(
        [],
      );
    }
  });
});
