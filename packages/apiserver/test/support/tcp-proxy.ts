// A TCP proxy in front of a store, so a test can break client connections on demand.

import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Destroys every proxied connection; new ones are accepted (unless refusing). */
  cut(): void;
  /** While true, new connections are closed at once (the store looks down). */
  refuse(refusing: boolean): void;
  /** Stops listening and destroys every proxied connection (idempotent). */
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target);
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(url.port), url.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut,
    refuse: (r) => {
      refusing = r;
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        cut();
      });
      return closed;
    },
  };
}
