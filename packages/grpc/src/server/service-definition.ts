// What a service is made of: its methods' definitions (grpc-js's shape, as @grpc/proto-loader
// and hand-written definitions produce) and the handlers that serve them, in grpc-js's four
// shapes, so that services written for grpc-js's Server move over by changing their types.

import type { Metadata } from "../wire/metadata.js";
import type {
  ServerDuplexCall,
  ServerReadableCall,
  ServerUnaryCall,
  ServerWritableCall,
} from "./server-call.js";

/**
 * One method. Declared with method syntax so that a definition typed for its own messages
 * (grpc-js's ServerMethodDefinition<PutRequest, PutResponse, ...>) is accepted as it is.
 */
export interface ServerMethodDefinition<Req = unknown, Res = unknown> {
  /** "/package.Service/Method", the request's :path. */
  readonly path: string;
  /** Whether the client sends a stream of messages (else exactly one). */
  readonly requestStream: boolean;
  /** Whether the server answers with a stream of messages (else exactly one). */
  readonly responseStream: boolean;
  requestDeserialize(bytes: Buffer): Req;
  responseSerialize(value: Res): Uint8Array;
}

/** A service: its methods by name. */
export type ServiceDefinition<S> = { readonly [K in keyof S]: ServerMethodDefinition };

/**
 * The unary reply: an error (anything grpc-js-shaped: `code`, `details`, `metadata`, see
 * statusOfError), or the response with optional trailing metadata.
 */
export type SendUnaryData<Res> = (error: unknown, value?: Res | null, trailer?: Metadata) => void;

/** Unary: one request, one response. */
export type UnaryHandler<Req, Res> = (
  call: ServerUnaryCall<Req>,
  callback: SendUnaryData<Res>,
) => void;
/** Client streaming: a stream of requests (call is a Readable), one response. */
export type ClientStreamingHandler<Req, Res> = (
  call: ServerReadableCall<Req>,
  callback: SendUnaryData<Res>,
) => void;
/** Server streaming: one request, a stream of responses (call is a Writable). */
export type ServerStreamingHandler<Req, Res> = (call: ServerWritableCall<Req, Res>) => void;
/** Bidirectional streaming (call is a Duplex). */
export type BidiStreamingHandler<Req, Res> = (call: ServerDuplexCall<Req, Res>) => void;

/**
 * Any handler; which shape a method's handler has is read from its definition's
 * requestStream and responseStream, as grpc-js does. `never` and `unknown` let a handler
 * typed for its own messages stand here.
 */
export type Handler =
  | UnaryHandler<never, unknown>
  | ClientStreamingHandler<never, unknown>
  | ServerStreamingHandler<never, unknown>
  | BidiStreamingHandler<never, unknown>;

/** A service's handlers: one per method of its definition. */
export type ServiceHandlers<S> = { readonly [K in keyof S]: Handler };
