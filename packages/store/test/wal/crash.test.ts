// A real crash: a child process appends to a WAL and prints each index once its save()
// resolved; the test SIGKILLs it at a seeded random moment (after a seeded number of
// acknowledgements, with more saves in flight), reopens the WAL, and checks that every
// acknowledged index survived, in a contiguous log with the right contents. Several rounds
// run on the same directory, so each child also recovers from the previous crash.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "../../src/wal/wal.js";
import { entryData } from "./fixtures/wal-writer.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "wal-writer.ts");
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const SEED = 20240611;
const ROUNDS = 8;

/** mulberry32: a small seeded PRNG, so the kill points replay from the seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let dir: string;
let child: ChildProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-wal-crash-"));
});

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null)
    child.kill("SIGKILL");
  child = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer until it has acknowledged `killAfter` indexes, SIGKILLs it, returns all it acknowledged. */
function runAndKill(
  walDir: string,
  killAfter: number,
): Promise<{ acked: number[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ["--conditions=source", "--import", TSX, FIXTURE, walDir, String(64 * 1024), "8", "500"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = p;
    const acked: number[] = [];
    let partial = "";
    let stderr = "";
    let killed = false;
    p.stdout?.setEncoding("utf8");
    p.stderr?.setEncoding("utf8");
    p.stdout?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) acked.push(Number(l));
      if (!killed && acked.length >= killAfter) {
        killed = true;
        p.kill("SIGKILL");
      }
    });
    p.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
    });
    p.on("error", reject);
    p.on("close", (code, signal) => {
      if (signal === "SIGKILL" && killed) resolve({ acked, stderr });
      else
        reject(new Error(`wal-writer exited early (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}

describe("Wal: crash test", () => {
  it(`keeps every acknowledged entry across ${ROUNDS} SIGKILLs at seeded random moments (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const walDir = join(dir, "wal");
    let ackedMax = 0;
    let unackedSurvivors = 0;
    let tornRepairs = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = 1 + Math.floor(random() * 1500);
      const { acked, stderr } = await runAndKill(walDir, killAfter);
      tornRepairs += (stderr.match(/cut a torn write/g) ?? []).length;
      expect(acked.length, `round ${round}`).toBeGreaterThanOrEqual(killAfter);
      ackedMax = Math.max(ackedMax, ...acked);

      const warnings: string[] = [];
      const { markers } = await Wal.snapshotMarkers(walDir);
      const from = markers[markers.length - 1] ?? { index: 0, term: 0 };
      const { wal, contents } = await Wal.open(walDir, from, {
        logger: { warn: (m) => warnings.push(m) },
      });
      await wal.close();
      tornRepairs += warnings.length;

      // A contiguous log after the snapshot marker, with the contents the writer wrote.
      contents.entries.forEach((e, i) => {
        expect(e.index, `round ${round}: entry ${i} after snapshot ${from.index}`).toBe(
          from.index + 1 + i,
        );
        expect(
          Buffer.from(e.data).equals(Buffer.from(entryData(e.index))),
          `round ${round}: data of ${e.index}`,
        ).toBe(true);
      });
      const last = from.index + contents.entries.length;
      // Every acknowledged index, in this round or any before, is in the log (or its snapshot).
      expect(
        last,
        `round ${round}: last index ${last}, acknowledged up to ${ackedMax}`,
      ).toBeGreaterThanOrEqual(ackedMax);
      unackedSurvivors += last - ackedMax;
    }
    console.log(
      `crash test: ${ROUNDS} SIGKILLs, ${ackedMax} entries acknowledged, ${unackedSurvivors} written-but-unacknowledged ` +
        `entries found after the kills, ${tornRepairs} torn tails cut`,
    );
  });
});
