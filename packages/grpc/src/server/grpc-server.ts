// A gRPC server on node:http2's core API: one Http2Server that never listens itself and is
// handed connections (from listen()'s own net listeners, or from acceptConnection for sockets
// and duplex streams obtained elsewhere), and a table from :path to method. Per request it
// checks what PROTOCOL-HTTP2.md asks of a server (content-type, grpc-encoding, grpc-timeout)
// and runs the handler in grpc-js's shape for the method's kind.

import { lookup } from "node:dns/promises";
import {
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type Settings,
} from "node:http2";
import { createServer, isIP, type Server as NetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { outsideReads } from "../outside-reads.js";
import { type CallStatus, statusOfError } from "../wire/grpc-error.js";
import { Status } from "../wire/status.js";
import { encodeStatusMessage } from "../wire/status-message.js";
import { parseTimeout } from "../wire/timeout.js";
import {
  type CallEvents,
  type CallLimits,
  CallStream,
  TRAILERS_ONLY_OPTIONS,
} from "./call-stream.js";
import {
  ServerDuplexCall,
  ServerReadableCall,
  ServerUnaryCall,
  ServerWritableCall,
} from "./server-call.js";
import type {
  BidiStreamingHandler,
  ClientStreamingHandler,
  Handler,
  SendUnaryData,
  ServerMethodDefinition,
  ServerStreamingHandler,
  ServiceDefinition,
  ServiceHandlers,
  UnaryHandler,
} from "./service-definition.js";

/** grpc-js's default receive limit: 4 MiB. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface GrpcServerOptions {
  /** The largest request message; larger ones fail with RESOURCE_EXHAUSTED. -1: no limit. */
  maxReceiveMessageBytes?: number;
  /** The largest response message; -1 (the default, as grpc-js): no limit. */
  maxSendMessageBytes?: number;
  /** HTTP/2 SETTINGS the server sends (node:http2's names). */
  settings?: Settings;
}

interface Route {
  readonly definition: ServerMethodDefinition;
  readonly handler: Handler;
}

/** Per-request checks failed before a call starts: Trailers-Only with this status. */
function trailersOnly(stream: ServerHttp2Stream, status: CallStatus, httpStatus = 200): void {
  if (stream.destroyed) return;
  stream.respond(
    {
      ":status": httpStatus,
      "content-type": "application/grpc",
      ...status.trailers,
      "grpc-status": String(status.code),
      "grpc-message": encodeStatusMessage(status.details),
    },
    TRAILERS_ONLY_OPTIONS,
  );
}

function ignore(): void {}

export class GrpcServer {
  private readonly http2: Http2Server;
  private readonly routes = new Map<string, Route>();
  private readonly limits: CallLimits;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly connections = new Set<Duplex>();
  private readonly listeners: NetServer[] = [];
  private shuttingDown = false;

  constructor(options: GrpcServerOptions = {}) {
    this.limits = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
      maxSendMessageBytes: options.maxSendMessageBytes ?? -1,
    };
    this.http2 = createHttp2Server({
      // Node's default (10 MB) resets streams under load with ENHANCE_YOUR_CALM; flow control
      // and the message limits bound memory instead, as in grpc-js.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      settings: options.settings,
    });
    this.http2.on("session", (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
      if (this.shuttingDown) session.close();
    });
    this.http2.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      this.onStream(stream, headers),
    );
    // A session's error (a protocol error by the client, a reset socket) ends that session.
    this.http2.on("sessionError", ignore);
  }

  /**
   * Serves a service's methods with these handlers, one per method. Throws if a handler is
   * missing or a method's path is already served.
   */
  addService<S extends ServiceDefinition<S>>(service: S, handlers: ServiceHandlers<S>): void {
    for (const name of Object.keys(service) as (keyof S & string)[]) {
      const definition = service[name];
      const handler = handlers[name];
      if (typeof handler !== "function") {
        throw new Error(`addService: no handler for method ${name} (${definition.path})`);
      }
      if (this.routes.has(definition.path)) {
        throw new Error(`addService: ${definition.path} is already served`);
      }
      this.routes.set(definition.path, { definition, handler });
    }
  }

  /**
   * Listens on "host:port" ("[v6]:port", ":port" for every interface; port 0 picks a free
   * one). Like grpc-js's bindAsync, a host name is listened on at each of its addresses, all
   * on the port the first one got. Each connection goes to onConnection, by default
   * acceptConnection (a caller may look at it first). Resolves to the port.
   */
  async listen(
    address: string,
    onConnection: (socket: Socket) => void = (socket) => this.acceptConnection(socket),
  ): Promise<number> {
    const { host, port: wantedPort } = parseListenAddress(address);
    const addresses =
      host === undefined || isIP(host) !== 0
        ? [host]
        : (await lookup(host, { all: true })).map((a) => a.address);
    const opened: NetServer[] = [];
    let port = wantedPort;
    try {
      for (const ip of addresses) {
        const listener = createServer({ noDelay: true }, (socket) => {
          this.track(socket);
          onConnection(socket);
        });
        opened.push(listener);
        port = await new Promise<number>((resolve, reject) => {
          listener.once("error", reject);
          listener.listen(port, ip, () => {
            listener.off("error", reject);
            const bound = listener.address();
            resolve(typeof bound === "object" && bound !== null ? bound.port : port);
          });
        });
      }
    } catch (e) {
      for (const listener of opened) listener.close();
      throw e;
    }
    this.listeners.push(...opened);
    return port;
  }

  /**
   * Serves HTTP/2 on a connection made elsewhere: a connected net.Socket (HTTP/2 then reads
   * it natively; bytes already read from it may be unshift()ed back first) or any Duplex
   * carrying a client's bytes. The connection is destroyed by forceShutdown.
   */
  acceptConnection(connection: Duplex): void {
    if (this.shuttingDown) {
      connection.destroy();
      return;
    }
    this.track(connection);
    this.http2.emit("connection", connection);
  }

  private track(connection: Duplex): void {
    if (this.connections.has(connection)) return;
    this.connections.add(connection);
    connection.once("close", () => this.connections.delete(connection));
  }

  /**
   * Stops accepting connections, sends GOAWAY on each so that clients start no new calls,
   * lets calls in flight finish for up to graceMs, then cuts what is left (forceShutdown).
   */
  async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    const stopped = Promise.all(
      this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
    );
    const drained = Promise.all(
      [...this.sessions].map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.closed || session.destroyed) resolve();
            else session.close(resolve);
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([drained, grace]);
    clearTimeout(timer);
    this.forceShutdown();
    await stopped;
  }

  /** Cuts every connection and call at once (calls see 'cancelled'); stops listening. */
  forceShutdown(): void {
    this.shuttingDown = true;
    for (const listener of this.listeners) listener.close();
    const sessions = [...this.sessions];
    const connections = [...this.connections];
    outsideReads(() => {
      for (const session of sessions) session.destroy();
      for (const connection of connections) connection.destroy();
    });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // Stream errors (a reset, a lost connection) surface to the call as 'close'.
    stream.on("error", ignore);
    const contentType = headers["content-type"];
    if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      // PROTOCOL-HTTP2.md: 415, so that no plain HTTP client reads the error as a success.
      trailersOnly(
        stream,
        {
          code: Status.INTERNAL,
          details: `content-type must start with application/grpc, got ${JSON.stringify(contentType ?? "")}`,
        },
        415,
      );
      return;
    }
    const path = String(headers[":path"]);
    const route = this.routes.get(path);
    if (route === undefined) {
      trailersOnly(stream, {
        code: Status.UNIMPLEMENTED,
        details: `The server does not implement the method ${path}`,
      });
      return;
    }
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      trailersOnly(stream, {
        code: Status.UNIMPLEMENTED,
        details: `grpc-encoding ${JSON.stringify(encoding)} is not supported: send messages uncompressed (identity)`,
        trailers: { "grpc-accept-encoding": "identity" },
      });
      return;
    }
    let deadline = Number.POSITIVE_INFINITY;
    const timeout = headers["grpc-timeout"];
    if (typeof timeout === "string") {
      const ms = parseTimeout(timeout);
      if (ms === undefined) {
        trailersOnly(stream, {
          code: Status.INTERNAL,
          details: `grpc-timeout ${JSON.stringify(timeout)} is malformed: want 1-8 digits and a unit of H, M, S, m, u or n`,
        });
        return;
      }
      deadline = Date.now() + ms;
    }
    const { definition, handler } = route;
    const core = new CallStream(stream, headers, definition, this.limits, deadline);
    if (definition.requestStream) {
      if (definition.responseStream) {
        runStreaming(core, () =>
          (handler as BidiStreamingHandler<unknown, unknown>)(new ServerDuplexCall(core)),
        );
      } else {
        const call = new ServerReadableCall(core);
        runStreaming(core, () =>
          (handler as ClientStreamingHandler<unknown, unknown>)(call, replyOnce(core)),
        );
      }
    } else {
      core.listen(new SingleRequestCall(core, handler));
    }
  }
}

/** A handler that throws ends its call with the error's status rather than the process. */
function runStreaming(core: CallStream, run: () => void): void {
  try {
    run();
  } catch (e) {
    core.sendStatus(statusOfError(e));
  }
}

/**
 * A unary or server-streaming call: waits for its one request (and the client's
 * half-close), then runs the handler with it; zero or several requests end the call with
 * INTERNAL, as grpc-go does. A class rather than closures, since unary calls are the hot path.
 */
class SingleRequestCall implements CallEvents {
  private request: unknown;
  private count = 0;
  /** The unary call given to the handler, which hears of a cancel from then on. */
  private call: ServerUnaryCall<unknown> | undefined;

  constructor(
    private readonly core: CallStream,
    private readonly handler: Handler,
  ) {}

  onMessage(message: unknown): void {
    this.request = message;
    this.count++;
  }

  onHalfClose(): void {
    const core = this.core;
    if (this.count !== 1) {
      core.sendStatus({
        code: Status.INTERNAL,
        details: `A ${core.method.responseStream ? "server-streaming" : "unary"} call takes exactly one request message, got ${this.count}`,
      });
      return;
    }
    try {
      if (core.method.responseStream) {
        // The Writable call listens to the stream from here on.
        const call = new ServerWritableCall(core, this.request);
        (this.handler as ServerStreamingHandler<unknown, unknown>)(call);
      } else {
        const call = new ServerUnaryCall(core, this.request);
        this.call = call;
        (this.handler as UnaryHandler<unknown, unknown>)(call, replyOnce(core));
      }
    } catch (e) {
      core.sendStatus(statusOfError(e));
    }
  }

  onCancel(): void {
    this.call?.emit("cancelled", "cancelled");
  }
}

/** The callback of a unary or client-streaming handler: the first answer wins. */
function replyOnce(core: CallStream): SendUnaryData<unknown> {
  return (error, value, trailer) => {
    if (error !== null && error !== undefined) core.sendStatus(statusOfError(error));
    else core.sendResponse(value, trailer);
  };
}

/** "host:port", "[v6]:port" or ":port" (every interface). */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  if (
    colon < 0 ||
    address.slice(colon + 1) === "" ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    throw new Error(
      `listen address must be host:port (port 0-65535), got ${JSON.stringify(address)}`,
    );
  }
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? undefined : host, port };
}
