// Sums a V8 .cpuprofile (node --cpu-prof) by function and by file: self time (where the CPU
// was) and total time (self plus callees, each function counted once per sample), so the top
// items of a profile can be read without DevTools.
//
//   tsx packages/apiserver/bench/cpu-profile-summary.ts <file.cpuprofile> [rows=40] [filter]
//
// `filter` keeps only the samples whose stack holds a function or file matching it (a
// substring), to see what one path costs (e.g. "createObject").

import { readFileSync } from "node:fs";

/** The parts of the Chrome DevTools Protocol's Profiler.Profile this reads. */
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly parent?: number;
  readonly children?: readonly number[];
}

/** Time per key, in microseconds. */
type Tally = Map<string, number>;

function add(tally: Tally, key: string, us: number): void {
  tally.set(key, (tally.get(key) ?? 0) + us);
}

function shortFile(url: string): string {
  if (url === "") return "(native)";
  const i = url.indexOf("/packages/");
  if (i >= 0) return url.slice(i + 1);
  const m = url.lastIndexOf("/node_modules/");
  if (m >= 0) return url.slice(m + "/node_modules/".length);
  return url.replace(/^file:\/\//, "");
}

function main(): void {
  const [path, rowsArg, filter] = process.argv.slice(2);
  if (path === undefined) {
    console.error("usage: cpu-profile-summary <file.cpuprofile> [rows] [filter]");
    process.exit(2);
  }
  const rows = rowsArg === undefined ? 40 : Number(rowsArg);
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parentOf.set(c, n.id);
  }
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${shortFile(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const selfByFunction: Tally = new Map();
  const selfByFile: Tally = new Map();
  const totalByFunction: Tally = new Map();
  let sampled = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(id);
    if (leaf === undefined) continue;
    const name = leaf.callFrame.functionName;
    if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") {
      if (name === "(idle)") idle += us;
      else add(selfByFunction, name, us);
      if (name !== "(idle)") sampled += us;
      continue;
    }
    const stack: ProfileNode[] = [];
    for (let n: number | undefined = id; n !== undefined; n = parentOf.get(n)) {
      const node = byId.get(n);
      if (node !== undefined) stack.push(node);
    }
    if (filter !== undefined && !stack.some((n) => label(n).includes(filter))) continue;
    sampled += us;
    add(selfByFunction, label(leaf), us);
    add(selfByFile, shortFile(leaf.callFrame.url), us);
    const seen = new Set<string>();
    for (const n of stack) {
      const key = label(n);
      if (seen.has(key)) continue;
      seen.add(key);
      add(totalByFunction, key, us);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => `${((100 * us) / sampled).toFixed(1).padStart(5)}%`;
  const print = (title: string, tally: Tally) => {
    console.log(`\n${title}`);
    for (const [key, us] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`${ms(us)} ms ${pct(us)}  ${key}`);
    }
  };
  console.log(
    `${path}: ${(sampled / 1e6).toFixed(2)} s busy${filter === undefined ? "" : ` under "${filter}"`}, ${(idle / 1e6).toFixed(2)} s idle`,
  );
  print("self time by function", selfByFunction);
  print("self time by file", selfByFile);
  print("total time by function (self + callees)", totalByFunction);
}

main();
