// The server side of server-promotion-bench.ts, in its own process so that its heap holds
// only the server: a GrpcServer with one unary method shaped like the store's Put (a ~300-byte
// request decoded into an object with views into the received bytes, answered a group commit
// later with a ~30-byte response through an async handler, as the store's kv-service does).
// Prints its port on stdout, then reads commands from stdin, one a line:
//   start — a full GC, then starts v8.GCProfiler and the sampling heap profiler
//   stop  — stops the GC profiler, runs a full GC (so that whatever was promoted and then died
//           is collected by a major GC and leaves the minor-only profile), stops the sampling
//           profiler and prints one JSON line of figures
//
//   tsx --conditions=source packages/grpc/bench/server-promotion-target.ts all|minor [profile-file]
//
// With a profile file it also writes the sampling heap profile there (.heapprofile, for
// Chrome DevTools or a script that aggregates it by function).
//
// `all` samples every allocation, `minor` leaves out objects collected by a major GC
// (HeapProfiler.startSampling's includeObjectsCollectedByMajorGC): the difference between two
// runs is what was allocated, promoted to old space and then collected there.

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { createInterface } from "node:readline";
import { GCProfiler, type GCProfilerResult } from "node:v8";
import { GrpcServer } from "../src/index.js";

type Mode = "all" | "minor";
const mode = process.argv[2] as Mode;
const profileFile = process.argv[3];
if (mode !== "all" && mode !== "minor") {
  throw new Error(`mode must be all or minor, got ${JSON.stringify(process.argv[2])}`);
}

/** The heap profiler's sampling interval, bytes: V8's default is 32 KiB; finer for small calls. */
const SAMPLING_INTERVAL_BYTES = 4096;
/** How long a Put waits for its "commit": the store answers after a Raft round and an fsync. */
const COMMIT_INTERVAL_MS = 2;

interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease: string;
  prevKv: boolean;
}

/** Decodes like protobufjs: fields are views into the received message. */
function decodePut(bytes: Buffer): PutRequest {
  const keyLength = bytes[0] ?? 0;
  return {
    key: bytes.subarray(1, 1 + keyLength),
    value: bytes.subarray(1 + keyLength),
    lease: "0",
    prevKv: false,
  };
}

interface PutResponse {
  header: { clusterId: string; memberId: string; revision: number; raftTerm: string };
}

/** A 30-byte response: the header's revision and a fixed rest. */
function encodePutResponse(response: PutResponse): Buffer {
  const out = Buffer.alloc(30, 1);
  out.writeUInt32BE(response.header.revision >>> 0, 0);
  return out;
}

const method = {
  path: "/bench.KV/Put",
  requestStream: false,
  responseStream: false,
  originalName: "Put",
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: decodePut,
  responseSerialize: encodePutResponse,
  responseDeserialize: (b: Buffer) => b,
};

let revision = 0;
let pending: (() => void)[] = [];

/** Answers the Puts waiting for this commit. */
function flush(): void {
  const batch = pending;
  pending = [];
  for (const done of batch) done();
}

/** Resolves to the Put's revision at the next commit (a group commit every few ms). */
function commit(): Promise<number> {
  return new Promise((resolve) => {
    if (pending.length === 0) setTimeout(flush, COMMIT_INTERVAL_MS);
    pending.push(() => resolve(++revision));
  });
}

async function put(request: PutRequest): Promise<PutResponse> {
  if (request.key.length === 0) throw new Error("key is empty");
  const rev = await commit();
  return { header: { clusterId: "1", memberId: "2", revision: rev, raftTerm: "3" } };
}

const server = new GrpcServer();
server.addService(
  { Put: method },
  {
    Put: (call: { request: PutRequest }, callback: (e: Error | null, r?: PutResponse) => void) => {
      put(call.request).then(
        (r) => callback(null, r),
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
      );
    },
  },
);
console.log(await server.listen("127.0.0.1:0"));

const session = new Session();
session.connect();
function post<T>(methodName: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(methodName, params, (e, r) => (e ? reject(e) : resolve(r as T))),
  );
}

interface SampledNode {
  selfSize: number;
  children: SampledNode[];
}

function sampledBytes(node: SampledNode): number {
  let total = node.selfSize;
  for (const child of node.children) total += sampledBytes(child);
  return total;
}

/** What the scavenges of a GCProfiler run did: old-generation growth is what they promoted. */
function gcFigures(result: GCProfilerResult) {
  const oldSpaces = new Set(["old_space", "code_space", "large_object_space"]);
  let allocated = 0;
  let promoted = 0;
  let lastUsed: number | undefined;
  const pauses = { scavenge: { count: 0, ms: 0 }, markCompact: { count: 0, ms: 0 } };
  for (const gc of result.statistics) {
    const before = gc.beforeGC.heapStatistics.usedHeapSize;
    if (lastUsed !== undefined) allocated += Math.max(0, before - lastUsed);
    lastUsed = gc.afterGC.heapStatistics.usedHeapSize;
    if (gc.gcType === "Scavenge") {
      pauses.scavenge.count++;
      pauses.scavenge.ms += gc.cost / 1000;
      let old = 0;
      for (const s of gc.afterGC.heapSpaceStatistics) {
        if (oldSpaces.has(s.spaceName)) old += s.spaceUsedSize;
      }
      for (const s of gc.beforeGC.heapSpaceStatistics) {
        if (oldSpaces.has(s.spaceName)) old -= s.spaceUsedSize;
      }
      promoted += Math.max(0, old);
    } else if (gc.gcType === "MarkSweepCompact") {
      pauses.markCompact.count++;
      pauses.markCompact.ms += gc.cost / 1000;
    }
  }
  return { allocated, promoted, pauses };
}

let profiler: GCProfiler | undefined;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "start") {
    await post("HeapProfiler.collectGarbage");
    await post("HeapProfiler.startSampling", {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: mode === "all",
      includeObjectsCollectedByMinorGC: true,
    });
    profiler = new GCProfiler();
    profiler.start();
    console.log("started");
  } else if (line === "stop") {
    const result = (profiler as GCProfiler).stop();
    await post("HeapProfiler.collectGarbage");
    const { profile } = await post<{ profile: { head: SampledNode } }>("HeapProfiler.stopSampling");
    if (profileFile !== undefined) writeFileSync(profileFile, JSON.stringify(profile));
    console.log(
      JSON.stringify({ mode, sampled: sampledBytes(profile.head), ...gcFigures(result) }),
    );
  }
}
