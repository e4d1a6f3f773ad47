// A small typed CRI client over grpc-js: one async method per RPC of RuntimeService and
// ImageService, named as protobuf-es names them (runtime.runPodSandbox, image.pullImage),
// taking the request's init shape and returning the response message. Failures reject with a
// CriError carrying the gRPC status code. Works against any CRI v1 runtime.

import {
  create,
  type DescMessage,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { CriError } from "./cri-error.js";
import { ImageService, RuntimeService } from "./gen/cri/api_pb.js";
import { methodDefinition } from "./service-definitions.js";

/** Per-call options. */
export interface CriCallOptions {
  /** Milliseconds until the call fails with DEADLINE_EXCEEDED. Default CRI_CALL_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * The default deadline of a call: the kubelet's default --runtime-request-timeout (2 minutes),
 * long enough for StopContainer's grace period and a pull.
 */
export const CRI_CALL_TIMEOUT_MS = 120_000;

type Methods<S extends DescService> = S extends { method: infer M }
  ? {
      [K in keyof M]: M[K] extends {
        input: infer I extends DescMessage;
        output: infer O extends DescMessage;
      }
        ? (request?: MessageInitShape<I>, options?: CriCallOptions) => Promise<MessageShape<O>>
        : never;
    }
  : never;

export type RuntimeServiceClient = Methods<typeof RuntimeService>;
export type ImageServiceClient = Methods<typeof ImageService>;

/** A CRI client for `address`: "unix:///run/tug/cri-docker.sock" or a bare socket path. */
export class CriClient {
  readonly runtime: RuntimeServiceClient;
  readonly image: ImageServiceClient;
  private readonly grpc: Client;

  constructor(address: string) {
    const target = address.startsWith("unix:") ? address : `unix:${address}`;
    this.grpc = new Client(target, credentials.createInsecure());
    this.runtime = this.bind(RuntimeService) as RuntimeServiceClient;
    this.image = this.bind(ImageService) as ImageServiceClient;
  }

  private bind(service: DescService): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const method of service.methods) {
      const def = methodDefinition(method);
      out[method.localName] = (
        request: MessageInitShape<DescMessage> = {},
        options: CriCallOptions = {},
      ) =>
        new Promise((resolve, reject) => {
          const deadline = new Date(Date.now() + (options.timeoutMs ?? CRI_CALL_TIMEOUT_MS));
          this.grpc.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            create(method.input, request),
            new Metadata(),
            { deadline },
            (err: ServiceError | null, res?: MessageShape<DescMessage>) => {
              if (err) reject(new CriError(err.code, err.details || err.message, { cause: err }));
              else resolve(res);
            },
          );
        });
    }
    return out;
  }

  /** Waits until the server answers (or the deadline passes). */
  async waitForReady(timeoutMs = 10_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.grpc.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.grpc.close();
  }
}
