// `tug logs` and `tug exec` on the client side: the Logs stream as an async iterable of log
// bytes, and an Exec session that sends stdin and resizes, hands stdout/stderr to callbacks,
// and ends with the command's exit code taken from Kubernetes' exec Status.

import { create } from "@bufbuild/protobuf";
import type { ClientDuplexStream, ClientReadableStream } from "@grpc/grpc-js";
import type { Status } from "@tug/api";
import { ApiError } from "./api-error.js";
import { apiv1 } from "./api-imports.js";

/** PodLogOptions. */
export interface LogsOptions {
  /** The pod's namespace; "default" when unset. */
  readonly namespace?: string;
  /** May be omitted for a pod with one container. */
  readonly container?: string;
  readonly follow?: boolean;
  readonly previous?: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  readonly timestamps?: boolean;
  readonly limitBytes?: number;
  /** Ends the stream (the iterator finishes). */
  readonly signal?: AbortSignal;
}

export function logsRequest(pod: string, o: LogsOptions): apiv1.LogsRequest {
  return create(apiv1.LogsRequestSchema, {
    namespace: o.namespace || "default",
    name: pod,
    container: o.container ?? "",
    follow: o.follow ?? false,
    previous: o.previous ?? false,
    timestamps: o.timestamps ?? false,
    ...(o.tailLines === undefined ? {} : { tailLines: BigInt(o.tailLines) }),
    ...(o.sinceSeconds === undefined ? {} : { sinceSeconds: BigInt(o.sinceSeconds) }),
    ...(o.limitBytes === undefined ? {} : { limitBytes: BigInt(o.limitBytes) }),
  });
}

/** A container's log as chunks of bytes; errors are thrown as ApiError. Iterate once. */
export class LogStream implements AsyncIterable<Uint8Array> {
  private cancelled = false;

  constructor(
    private readonly call: ClientReadableStream<apiv1.LogsChunk>,
    signal?: AbortSignal,
  ) {
    call.on("error", () => undefined);
    if (signal?.aborted) this.cancel();
    else signal?.addEventListener("abort", () => this.cancel(), { once: true });
  }

  /** Stops the stream; the iterator finishes. Idempotent. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.call.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for await (const chunk of this.call as AsyncIterable<apiv1.LogsChunk>) {
        if (this.cancelled) return;
        yield chunk.data;
      }
    } catch (e) {
      if (this.cancelled) return;
      throw ApiError.fromGrpc(e);
    } finally {
      this.cancel();
    }
  }
}

/** PodExecOptions, with where the output goes. */
export interface ExecOptions {
  readonly namespace?: string;
  readonly container?: string;
  /** argv; at least one element. */
  readonly command: readonly string[];
  /** Attach stdin: send it with write() and end it with closeStdin(). */
  readonly stdin?: boolean;
  readonly tty?: boolean;
  onStdout?(data: Uint8Array): void;
  onStderr?(data: Uint8Array): void;
}

/** How an exec ended: the exit code and the Status the server sent. */
export interface ExecResult {
  readonly exitCode: number;
  readonly status: Status;
}

/**
 * The exit code an exec Status carries: 0 for Success, the ExitCode cause for
 * NonZeroExitCode; undefined when the Status holds none (the command could not run).
 */
export function exitCodeOf(status: Status): number | undefined {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes.find((c) => c.reason === "ExitCode");
  const code = cause === undefined ? Number.NaN : Number(cause.message);
  return Number.isInteger(code) ? code : undefined;
}

/** A running exec. */
export class ExecSession {
  /** Resolves when the command has ended; rejects with ApiError when it could not start or run. */
  readonly done: Promise<ExecResult>;
  private ended = false;

  constructor(
    private readonly call: ClientDuplexStream<apiv1.ExecFrame, apiv1.ExecFrame>,
    pod: string,
    o: ExecOptions,
  ) {
    this.done = new Promise<ExecResult>((resolve, reject) => {
      let status: Status | undefined;
      call.on("data", (f: apiv1.ExecFrame) => {
        if (f.frame.case === "stdout") o.onStdout?.(f.frame.value);
        else if (f.frame.case === "stderr") o.onStderr?.(f.frame.value);
        else if (f.frame.case === "status") status = f.frame.value;
      });
      call.on("error", (e) => {
        this.ended = true;
        reject(ApiError.fromGrpc(e));
      });
      call.on("end", () => {
        this.ended = true;
        if (status === undefined) {
          reject(
            ApiError.fromGrpc(
              Object.assign(new Error("the exec ended without the command's exit status"), {
                code: 13,
              }),
            ),
          );
          return;
        }
        const exitCode = exitCodeOf(status);
        if (exitCode === undefined) reject(ApiError.fromStatus(status, 0));
        else resolve({ exitCode, status });
      });
    });
    this.done.catch(() => undefined);
    this.send({
      case: "start",
      value: create(apiv1.ExecStartSchema, {
        namespace: o.namespace || "default",
        name: pod,
        container: o.container ?? "",
        command: [...o.command],
        stdin: o.stdin ?? false,
        tty: o.tty ?? false,
      }),
    });
  }

  private send(frame: apiv1.ExecFrame["frame"]): void {
    if (this.ended) return;
    this.call.write(create(apiv1.ExecFrameSchema, { frame }));
  }

  /** Bytes for the command's stdin. */
  write(data: Uint8Array): void {
    if (data.length > 0) this.send({ case: "stdin", value: data });
  }

  /** Ends the command's stdin (EOF). */
  closeStdin(): void {
    this.send({ case: "closeStdin", value: true });
  }

  /** The terminal's new size (dropped by the agent for now: docs/agent.md). */
  resize(width: number, height: number): void {
    this.send({ case: "resize", value: create(apiv1.TerminalSizeSchema, { width, height }) });
  }

  /** Abandons the exec. */
  cancel(): void {
    this.ended = true;
    this.call.cancel();
  }
}
