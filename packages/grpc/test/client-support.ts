// A real grpc-js server for the client tests: an Echo service with JSON messages (the client
// core does not care what the bytes are), and a TCP relay that can freeze a connection.

import { connect, createServer, type Server as NetServer, type Socket } from "node:net";
import {
  Metadata as GrpcJsMetadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
} from "@grpc/grpc-js";
import type { GrpcError, MethodDefinition } from "../src/index.js";

export interface EchoRequest {
  text: string;
  /** Server-streaming: how many responses; unary: size of the padding in the reply. */
  count?: number;
  /** Unary: fail with this status code. */
  failWith?: number;
  /** Unary: never answer (the test's deadline or cancel ends the call). */
  hang?: boolean;
}

export interface EchoResponse {
  text: string;
  index?: number;
  padding?: string;
}

const json = {
  requestSerialize: (v: EchoRequest) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as EchoRequest,
  responseSerialize: (v: EchoResponse) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()) as EchoResponse,
};

const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Echo/${name}`,
  requestStream,
  responseStream,
  originalName: name,
  ...json,
});

export const echoService = {
  Unary: method("Unary", false, false),
  ServerStream: method("ServerStream", false, true),
  Bidi: method("Bidi", true, true),
} satisfies ServiceDefinition;

// The service's methods as the client core takes them (the grpc-js definitions fit as is).
export const Unary: MethodDefinition<EchoRequest, EchoResponse> = echoService.Unary;
export const ServerStream: MethodDefinition<EchoRequest, EchoResponse> = echoService.ServerStream;
export const Bidi: MethodDefinition<EchoRequest, EchoResponse> = echoService.Bidi;

/** What the server observed, for assertions. */
export interface EchoObservations {
  /** Metadata of the last unary call, as grpc-js's getMap(). */
  lastMetadata: Record<string, string | Buffer>;
  /** The deadline grpc-js read from the last unary call's grpc-timeout (Infinity if none). */
  lastDeadline: number;
  /** Unary calls that asked to hang and are hanging (or were). */
  hanging: number;
  /** Calls the server saw cancelled by the client. */
  cancelled: number;
  /** Server-streaming writes that returned false (the client pushed back). */
  backpressured: number;
  /** Server-streaming writes made. */
  written: number;
}

export interface EchoServer {
  readonly address: string;
  readonly seen: EchoObservations;
  stop(): Promise<void>;
}

export async function startEchoServer(port = 0): Promise<EchoServer> {
  const seen: EchoObservations = {
    lastMetadata: {},
    lastDeadline: Number.POSITIVE_INFINITY,
    hanging: 0,
    cancelled: 0,
    backpressured: 0,
    written: 0,
  };
  const server = new Server();
  server.addService(echoService, {
    Unary: (call: ServerUnaryCall<EchoRequest, EchoResponse>, cb: sendUnaryData<EchoResponse>) => {
      seen.lastMetadata = call.metadata.getMap();
      const deadline = call.getDeadline();
      seen.lastDeadline = deadline instanceof Date ? deadline.getTime() : deadline;
      call.on("cancelled", () => seen.cancelled++);
      const req = call.request;
      if (req.hang === true) {
        seen.hanging++;
        return;
      }
      if (req.failWith !== undefined) {
        const trailer = new GrpcJsMetadata();
        trailer.set("why", "asked");
        cb({ code: req.failWith, details: `failed: ${req.text} ✓ 100%`, metadata: trailer });
        return;
      }
      cb(null, { text: req.text, padding: "x".repeat(req.count ?? 0) });
    },
    ServerStream: (call: ServerWritableStream<EchoRequest, EchoResponse>) => {
      call.on("cancelled", () => seen.cancelled++);
      const total = call.request.count ?? 0;
      let i = 0;
      const pump = () => {
        while (i < total) {
          seen.written++;
          const ok = call.write({ text: call.request.text, index: i++, padding: "p".repeat(4096) });
          if (!ok) {
            seen.backpressured++;
            call.once("drain", pump);
            return;
          }
        }
        call.end();
      };
      pump();
    },
    Bidi: (call: ServerDuplexStream<EchoRequest, EchoResponse>) => {
      call.on("cancelled", () => seen.cancelled++);
      call.on("data", (req: EchoRequest) => call.write({ text: req.text.toUpperCase() }));
      call.on("end", () => call.end());
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e, p) =>
      e === null ? resolve(p) : reject(e),
    ),
  );
  return {
    address: `127.0.0.1:${bound}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** A TCP relay to a target whose connections can be frozen (bytes stop flowing both ways). */
export interface FreezableRelay {
  readonly address: string;
  /** From now on, nothing is forwarded on the open connections (a silent network). */
  freeze(): void;
  close(): Promise<void>;
}

export async function startFreezableRelay(target: string): Promise<FreezableRelay> {
  const [host, port] = target.split(":");
  const sockets = new Set<Socket>();
  let frozen = false;
  const server: NetServer = createServer((client) => {
    const upstream = connect(Number(port), host);
    sockets.add(client).add(upstream);
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (d: Buffer) => {
        if (!frozen) to.write(d);
      });
    forward(client, upstream);
    forward(upstream, client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  const bound = typeof addr === "object" && addr !== null ? addr.port : 0;
  return {
    address: `127.0.0.1:${bound}`,
    freeze: () => {
      frozen = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The error a call that must fail failed with; throws if it succeeded. */
export function failure(call: Promise<unknown>): Promise<GrpcError> {
  return call.then(
    () => {
      throw new Error("the call succeeded; it should have failed");
    },
    (e: unknown) => e as GrpcError,
  );
}
