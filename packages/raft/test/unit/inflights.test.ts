import { describe, expect, it } from "vitest";
import { Inflights } from "../../src/inflights.js";

function filled(
  capacity: number,
  maxBytes: number,
  indexes: readonly number[],
  bytes = 1,
): Inflights {
  const w = new Inflights(capacity, maxBytes);
  for (const i of indexes) w.add(i, bytes);
  return w;
}

describe("Inflights", () => {
  it("is full once it holds `capacity` messages, not before", () => {
    const w = new Inflights(3);
    w.add(1, 100);
    w.add(2, 100);
    expect(w.full()).toBe(false);
    expect(w.count()).toBe(2);
    w.add(3, 100);
    expect(w.full()).toBe(true);
    expect(w.count()).toBe(3);
  });

  it("with no byte limit, large payloads never fill it", () => {
    const w = new Inflights(10, 0);
    w.add(1, 1 << 30);
    w.add(2, 1 << 30);
    expect(w.full()).toBe(false);
  });

  it("is full once the payload bytes in flight reach maxBytes", () => {
    const w = new Inflights(10, 100);
    w.add(1, 60);
    expect(w.full()).toBe(false);
    w.add(2, 39);
    expect(w.full()).toBe(false);
    w.add(3, 1);
    expect(w.full()).toBe(true);
  });

  it("freeLE frees every message whose last index is <= to, and their bytes", () => {
    const w = new Inflights(10, 100);
    w.add(2, 30);
    w.add(5, 30);
    w.add(9, 40);
    expect(w.full()).toBe(true);
    w.freeLE(5);
    expect(w.count()).toBe(1);
    expect(w.full()).toBe(false);
    // 40 bytes remain: adding 59 stays below, 60 reaches the cap.
    w.add(10, 59);
    expect(w.full()).toBe(false);
    w.add(11, 1);
    expect(w.full()).toBe(true);
  });

  it("freeLE below the oldest message frees nothing", () => {
    const w = filled(5, 0, [4, 6, 8]);
    w.freeLE(3);
    expect(w.count()).toBe(3);
  });

  it("freeLE between messages frees only those at or below", () => {
    const w = filled(5, 0, [4, 6, 8]);
    w.freeLE(7);
    expect(w.count()).toBe(1);
    w.freeLE(8);
    expect(w.count()).toBe(0);
  });

  it("freeLE past the newest frees all and makes room", () => {
    const w = filled(3, 0, [1, 2, 3]);
    expect(w.full()).toBe(true);
    w.freeLE(100);
    expect(w.count()).toBe(0);
    expect(w.full()).toBe(false);
  });

  it("freeFirstOne frees exactly the oldest message and its bytes", () => {
    const w = new Inflights(3, 50);
    w.add(1, 50);
    w.add(2, 10);
    w.add(3, 10);
    expect(w.full()).toBe(true);
    w.freeFirstOne();
    expect(w.count()).toBe(2);
    expect(w.full()).toBe(false);
    // The freed one was index 1: freeing up to 1 now frees nothing more.
    w.freeLE(1);
    expect(w.count()).toBe(2);
  });

  it("freeFirstOne on an empty window is a no-op", () => {
    const w = new Inflights(2);
    w.freeFirstOne();
    expect(w.count()).toBe(0);
    expect(w.full()).toBe(false);
  });

  it("reset empties the window and its byte count", () => {
    const w = new Inflights(2, 10);
    w.add(1, 10);
    w.add(2, 10);
    w.reset();
    expect(w.count()).toBe(0);
    expect(w.full()).toBe(false);
    w.add(3, 9);
    expect(w.full()).toBe(false);
  });

  it("keeps working as a sliding window over many adds and frees", () => {
    const w = new Inflights(4);
    let next = 1;
    for (let round = 0; round < 100; round++) {
      while (!w.full()) w.add(next++, 1);
      expect(w.count()).toBe(4);
      // Acknowledge the two oldest.
      w.freeLE(next - 3);
      expect(w.count()).toBe(2);
    }
  });
});
