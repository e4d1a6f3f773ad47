// etcdserverpb.Maintenance: status, snapshot, alarms (none are ever raised), hashes,
// defragment (nothing to do) and leader transfer.

import { createHash } from "node:crypto";
import type { ServerWritableCall } from "@tug/grpc";
import type { MaintenanceHandlers } from "../gen/etcd/etcdserverpb/Maintenance.js";
import type { SnapshotRequest__Output } from "../gen/etcd/etcdserverpb/SnapshotRequest.js";
import type { SnapshotResponse } from "../gen/etcd/etcdserverpb/SnapshotResponse.js";
import type { EtcdBackend } from "./backend.js";
import { grpcError, header, int64, unary } from "./codec.js";
import type { EtcdHandlers } from "./server.js";

/** Blob bytes per snapshot reply (etcd sends 32 KiB reads). */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

type SnapshotCall = ServerWritableCall<SnapshotRequest__Output, SnapshotResponse>;

export function maintenanceHandlers(backend: EtcdBackend): EtcdHandlers<MaintenanceHandlers> {
  return {
    Status: unary(async () => {
      const s = await backend.status();
      return {
        header: header(backend.header()),
        version: s.version,
        dbSize: s.dbSize,
        leader: s.leader,
        raftIndex: s.raftIndex,
        raftTerm: s.raftTerm,
        raftAppliedIndex: s.raftAppliedIndex,
        errors: [...s.errors],
        dbSizeInUse: s.dbSizeInUse,
        isLearner: s.isLearner,
      };
    }),
    Alarm: unary(async () => {
      // No alarm is ever raised: activating one is accepted and lists nothing, as etcd lists
      // nothing until an alarm is raised by the server itself.
      return { header: header(backend.header()), alarms: [] };
    }),
    // Hash headers carry the current revision, whatever revision was hashed (as etcd's do).
    Hash: unary(async () => {
      const r = await backend.hashKv(0);
      return { header: header(backend.header()), hash: r.hash };
    }),
    HashKV: unary(async (m) => {
      const r = await backend.hashKv(int64(m.revision));
      return {
        header: header(backend.header()),
        hash: r.hash,
        compactRevision: r.compactRevision,
      };
    }),
    Defragment: unary(async () => ({ header: header(backend.header()) })),
    MoveLeader: unary(async (m) => {
      await backend.moveLeader(int64(m.targetID));
      return { header: header(backend.header()) };
    }),
    Snapshot: (call) => {
      sendSnapshot(backend, call).catch((e: unknown) => call.emit("error", grpcError(e)));
    },
  };
}

/**
 * Streams the backend's image in chunks, each telling the bytes still to come, then its
 * SHA-256 as a last blob with nothing remaining: etcd's format, which `etcdctl snapshot`
 * checks. The first reply's header tells the revision the image holds. Waits for the client
 * to read (write callbacks) so that a large image is not buffered whole.
 */
async function sendSnapshot(backend: EtcdBackend, call: SnapshotCall): Promise<void> {
  const image = await backend.snapshot();
  const sha = createHash("sha256");
  let cancelled = false;
  call.on("cancelled", () => {
    cancelled = true;
  });
  const write = (resp: SnapshotResponse) =>
    new Promise<void>((resolve, reject) => {
      call.write(resp, (err: Error | null | undefined) => (err ? reject(err) : resolve()));
    });
  let sent = 0;
  let first = true;
  for await (const chunk of image.chunks) {
    for (let off = 0; off < chunk.length; off += SNAPSHOT_CHUNK_BYTES) {
      if (cancelled) return;
      const blob = chunk.subarray(off, Math.min(chunk.length, off + SNAPSHOT_CHUNK_BYTES));
      sha.update(blob);
      sent += blob.length;
      const resp: SnapshotResponse = { remainingBytes: image.size - sent, blob };
      if (first) resp.header = header(backend.header(), image.revision);
      first = false;
      await write(resp);
    }
  }
  if (sent !== image.size) {
    throw new Error(`snapshot image is ${sent} bytes but its size says ${image.size}`);
  }
  if (cancelled) return;
  await write({ remainingBytes: 0, blob: sha.digest() });
  call.end();
}
