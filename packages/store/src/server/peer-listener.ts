// The gRPC server on a member's peer URL. It is bound before the StoreServer starts, because a
// member's id derives from its advertised peer URL, which with port 0 is only known once bound:
// a test (or `tug up`) binds every member's listener first and then builds --initial-cluster.
// The StoreServer serves the Raft transport (tug.peer.Peer) and tug.store.Members on it.

import * as grpc from "@grpc/grpc-js";
import { StoreError } from "../errors.js";
import { PEER_SERVER_OPTIONS } from "../transport/index.js";
import { peerTarget } from "../transport/peer-wire.js";

export interface PeerListener {
  /** The URL it listens on, http://host:port, with the port chosen when asked for 0. */
  readonly url: string;
  readonly server: grpc.Server;
  /** Stops serving at once, cutting open calls (a member going away). */
  close(): void;
}

/** Listens on `url` (http://host:port; port 0 picks a free one). Nothing is served yet. */
export async function listenPeer(url: string): Promise<PeerListener> {
  const target = peerTarget(url, "peer listen URL");
  const server = new grpc.Server(PEER_SERVER_OPTIONS);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        reject(
          new StoreError("UNAVAILABLE", `cannot listen for peers on ${url}: ${err.message}`, {
            cause: err,
          }),
        );
      } else resolve(bound);
    });
  });
  let closed = false;
  return {
    url: `http://${new URL(url).hostname}:${port}`,
    server,
    close: () => {
      if (closed) return;
      closed = true;
      server.forceShutdown();
    },
  };
}
