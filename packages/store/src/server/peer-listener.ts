// The gRPC server on a member's peer URL. It is bound before the StoreServer starts, because a
// member's id derives from its advertised peer URL, which with port 0 is only known once bound:
// a test (or `tug up`) binds every member's listener first and then builds --initial-cluster.
// The StoreServer serves the Raft transport (tug.peer.Peer) and tug.store.Members on it, with
// @tug/grpc's GrpcServer (gRPC straight on node:http2; grpc-js clients still talk to it).

import { GrpcServer } from "@tug/grpc";
import { StoreError } from "../errors.js";
import { PEER_SERVER_OPTIONS } from "../transport/index.js";
import { asStoreError, peerTarget } from "../transport/peer-wire.js";

export interface PeerListener {
  /** The URL it listens on, http://host:port, with the port chosen when asked for 0. */
  readonly url: string;
  readonly server: GrpcServer;
  /** Stops serving at once, cutting open calls (a member going away). */
  close(): void;
}

/** Listens on `url` (http://host:port; port 0 picks a free one). Nothing is served yet. */
export async function listenPeer(url: string): Promise<PeerListener> {
  const target = peerTarget(url, "peer listen URL");
  const server = new GrpcServer(PEER_SERVER_OPTIONS);
  let port: number;
  try {
    port = await server.listen(target);
  } catch (e) {
    server.forceShutdown();
    throw new StoreError(
      "UNAVAILABLE",
      `cannot listen for peers on ${url}: ${asStoreError(e).message}`,
      { cause: e },
    );
  }
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
