// Test harness for the peer transport: members on real sockets (port 0) that record what they
// receive and what the transport reports, and promises that wait for a condition. Waits have
// no deadline of their own: a condition that never comes fails by the test's timeout.

import { type Message, type MessageInit, message, type NodeId } from "@tug/raft";
import type { StoreError } from "../../src/errors.js";
import {
  type FaultInjector,
  type StreamBrokenReason,
  Transport,
} from "../../src/transport/index.js";

export const CLUSTER = 0x1fn;

export interface Member {
  readonly id: NodeId;
  readonly transport: Transport;
  readonly url: string;
  readonly received: Message[];
  readonly snapshots: { msg: Message; data: Uint8Array }[];
  readonly unreachable: NodeId[];
  readonly snapshotStatus: { id: NodeId; status: "finish" | "failure" }[];
  readonly active: NodeId[];
  readonly broken: NodeId[];
  readonly brokenReasons: StreamBrokenReason[];
  readonly errors: { id: NodeId | undefined; error: StoreError }[];
  /** Resolves once `cond` holds; re-checked after every event this member records. */
  until(cond: () => boolean): Promise<void>;
}

export interface MemberOptions {
  readonly clusterId?: bigint;
  readonly url?: string;
  readonly faults?: FaultInjector;
  readonly queueLimit?: number;
  /** Persists a snapshot; default: record it. */
  readonly onSnapshot?: (msg: Message, data: Uint8Array) => Promise<void>;
  /** Extra hook on each message, after it is recorded. */
  readonly onMessage?: (msg: Message) => void;
}

const started: Transport[] = [];

/** A member listening on 127.0.0.1 (port 0 unless `url` says otherwise). */
export async function startMember(id: NodeId, options: MemberOptions = {}): Promise<Member> {
  const waiters: { cond: () => boolean; resolve: () => void }[] = [];
  const poke = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.cond()) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const rec = {
    received: [] as Message[],
    snapshots: [] as { msg: Message; data: Uint8Array }[],
    unreachable: [] as NodeId[],
    snapshotStatus: [] as { id: NodeId; status: "finish" | "failure" }[],
    active: [] as NodeId[],
    broken: [] as NodeId[],
    brokenReasons: [] as StreamBrokenReason[],
    errors: [] as { id: NodeId | undefined; error: StoreError }[],
  };
  const transport = new Transport({
    id,
    clusterId: options.clusterId ?? CLUSTER,
    faults: options.faults,
    queueLimit: options.queueLimit,
    onMessage: (msg) => {
      rec.received.push(msg);
      options.onMessage?.(msg);
      poke();
    },
    onSnapshot: async (msg, data) => {
      if (options.onSnapshot) await options.onSnapshot(msg, data);
      rec.snapshots.push({ msg, data });
      poke();
    },
    onUnreachable: (peer) => {
      rec.unreachable.push(peer);
      poke();
    },
    onSnapshotStatus: (peer, status) => {
      rec.snapshotStatus.push({ id: peer, status });
      poke();
    },
    onPeerActive: (peer) => {
      rec.active.push(peer);
      poke();
    },
    onPeerStreamBroken: (peer, reason) => {
      rec.broken.push(peer);
      rec.brokenReasons.push(reason);
      poke();
    },
    onPeerError: (peer, error) => {
      rec.errors.push({ id: peer, error });
      poke();
    },
  });
  started.push(transport);
  const url = await transport.listen(options.url ?? "http://127.0.0.1:0");
  // Streams come up on timers, with no member event to re-check on: poll as well.
  const until = (cond: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      if (cond()) return resolve();
      const timer = setInterval(() => {
        if (cond()) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
      waiters.push({
        cond,
        resolve: () => {
          clearInterval(timer);
          resolve();
        },
      });
    });
  return { id, transport, url, ...rec, until };
}

/** Closes every transport the harness started (afterEach). */
export async function closeAll(): Promise<void> {
  const all = started.splice(0);
  await Promise.all(all.map((t) => t.close()));
}

/** Connects a → b and b → a, and waits for both streams to be up. */
export async function connect(a: Member, b: Member): Promise<void> {
  a.transport.addPeer(b.id, b.url);
  b.transport.addPeer(a.id, a.url);
  await a.until(() => a.transport.peerStats(b.id)?.connected === true);
  await b.until(() => b.transport.peerStats(a.id)?.connected === true);
}

/** A small MsgApp from → to carrying one entry of `size` bytes at `index`. */
export function app(from: NodeId, to: NodeId, index: number, size = 16): Message {
  return msg({
    type: "MsgApp",
    from,
    to,
    term: 1,
    index: index - 1,
    logTerm: 1,
    commit: index - 1,
    entries: [
      { term: 1, index, type: "EntryNormal", data: new Uint8Array(size).fill(index & 0xff) },
    ],
  });
}

export function msg(init: MessageInit): Message {
  return message(init);
}

/** A port nobody listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Deterministic bytes (xorshift32 from `seed`), for snapshot data. */
export function seededBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = i & 0xff;
  return out;
}
