// Sums the garbage collections a process logged with `node --trace-gc-nvp` (or `--trace-gc`)
// over the last seconds of each log: per log, for the main isolate only (the one with the
// most lines; workers log under their own isolate address), the count and total pause of
// scavenges and Mark-Compacts, and with --trace-gc-nvp the bytes scavenges promoted and the
// bytes allocated. For bench:store's member logs (BENCH_KEEP_LOGS, BENCH_TUG_NODE_ARGS).
//
//   tsx packages/grpc/bench/gc-trace-summary.ts <seconds> <log>...
//
// Prints a line per log and one JSON line of the totals over all logs.

import { readFileSync } from "node:fs";
import { basename } from "node:path";

const seconds = Number(process.argv[2]);
const files = process.argv.slice(3);
if (!(seconds > 0) || files.length === 0) {
  throw new Error("usage: gc-trace-summary.ts <seconds> <log>... (seconds > 0, at least one log)");
}

interface Gc {
  readonly isolate: string;
  readonly ms: number;
  readonly kind: "scavenge" | "markCompact" | "other";
  readonly pause: number;
  readonly promoted: number;
  readonly allocated: number;
}

/** [pid:0xisolate]   1234 ms: pause=5.1 ... gc=s ... allocated=N promoted=N ... */
const NVP = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: pause=([\d.]+) .*?\bgc=(\w+)\b/;
/** [pid:0xisolate]   1234 ms: Scavenge 40.1 (50.2) -> 38.0 (51.0) MB, 5.1 / 0.0 ms ... */
const PLAIN = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact)\b.*? MB, ([\d.]+) \//;

function field(line: string, name: string): number {
  const m = new RegExp(`\\b${name}=(\\d+)`).exec(line);
  return m === null ? 0 : Number(m[1]);
}

function parse(line: string): Gc | undefined {
  const nvp = NVP.exec(line);
  if (nvp !== null) {
    const [, isolate = "", ms, pause, gc] = nvp;
    return {
      isolate,
      ms: Number(ms),
      kind: gc === "s" ? "scavenge" : gc === "mc" ? "markCompact" : "other",
      pause: Number(pause),
      promoted: field(line, "promoted"),
      allocated: field(line, "allocated"),
    };
  }
  const plain = PLAIN.exec(line);
  if (plain === null) return undefined;
  const [, isolate = "", ms, kind, pause] = plain;
  return {
    isolate,
    ms: Number(ms),
    kind: kind === "Scavenge" ? "scavenge" : "markCompact",
    pause: Number(pause),
    promoted: 0,
    allocated: 0,
  };
}

const totals = {
  scavenges: 0,
  scavengeMs: 0,
  markCompacts: 0,
  markCompactMs: 0,
  promotedBytes: 0,
  allocatedBytes: 0,
};
for (const file of files) {
  const gcs = readFileSync(file, "utf8")
    .split("\n")
    .map(parse)
    .filter((g): g is Gc => g !== undefined);
  const perIsolate = new Map<string, number>();
  for (const g of gcs) perIsolate.set(g.isolate, (perIsolate.get(g.isolate) ?? 0) + 1);
  const main = [...perIsolate].sort((a, b) => b[1] - a[1])[0]?.[0];
  const mine = gcs.filter((g) => g.isolate === main);
  const end = mine.at(-1)?.ms ?? 0;
  const window = mine.filter((g) => g.ms > end - seconds * 1000);
  const sum = (kind: Gc["kind"], f: (g: Gc) => number) =>
    window.filter((g) => g.kind === kind).reduce((s, g) => s + f(g), 0);
  const row = {
    scavenges: sum("scavenge", () => 1),
    scavengeMs: sum("scavenge", (g) => g.pause),
    markCompacts: sum("markCompact", () => 1),
    markCompactMs: sum("markCompact", (g) => g.pause),
    promotedBytes: sum("scavenge", (g) => g.promoted),
    allocatedBytes: window.reduce((s, g) => s + g.allocated, 0),
  };
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += row[k];
  console.log(
    `${basename(file)}: ${row.scavenges} scavenges (${row.scavengeMs.toFixed(0)} ms), ` +
      `${row.markCompacts} Mark-Compacts (${row.markCompactMs.toFixed(0)} ms), ` +
      `promoted ${(row.promotedBytes / 1e6).toFixed(1)} MB, allocated ${(row.allocatedBytes / 1e6).toFixed(0)} MB`,
  );
}
console.log(JSON.stringify({ seconds, logs: files.length, ...totals }));
