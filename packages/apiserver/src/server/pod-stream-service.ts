// The Logs and Exec methods of tug.apiserver.v1.Api on @tug/grpc (pod-streams.ts does the work):
// Logs is server-streaming, Exec bidirectional; a failure ends the call with the error's gRPC
// code and its Status in the "tug-status-bin" trailer, like every other method.

import { create } from "@bufbuild/protobuf";
import type { Node, Pod } from "@tug/api";
import { apiv1 } from "@tug/client";
import type { Handler, ServerDuplexCall, ServerWritableCall } from "@tug/grpc";
import type { ApiHandlers } from "./api-handlers.js";
import { type CallObserver, statusMetadata } from "./grpc-service.js";
import { type PodStreamLookups, runExec, streamLogs } from "./pod-streams.js";
import { StatusError, toStatusError } from "./status-error.js";
import { writeWithBackpressure } from "./stream-write.js";

/** Pods and nodes from the API server's storage (quorum reads). */
function lookupsOf(handlers: ApiHandlers): PodStreamLookups {
  const get = (resource: string, namespace: string, name: string) =>
    handlers
      .resolve(
        create(apiv1.ResourceRefSchema, { group: "", version: "v1", resource, namespace, name }),
      )
      .store.get(namespace === "" ? { name } : { namespace, name });
  return {
    pod: async (namespace, name) => (await get("pods", namespace, name)) as unknown as Pod,
    node: async (name) => (await get("nodes", "", name)) as unknown as Node,
  };
}

/** Resolves with the next item of `it`, or undefined when it has ended. */
async function first<T>(it: AsyncIterator<T>): Promise<T | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

/** The Logs and Exec handlers, to spread into the service implementation. */
export function podStreamMethods(
  handlers: ApiHandlers,
  observe: CallObserver,
): { Logs: Handler; Exec: Handler } {
  const lookups = lookupsOf(handlers);
  const fail = (
    call: ServerWritableCall<unknown, unknown> | ServerDuplexCall<unknown, unknown>,
    verb: string,
    resource: string,
    started: number,
    e: unknown,
    aborted: boolean,
  ) => {
    const error = toStatusError(e);
    observe({ verb, resource, code: error.code, durationMs: performance.now() - started, error });
    if (aborted) return;
    call.emit("error", {
      name: "StatusError",
      message: error.message,
      code: error.grpcCode,
      details: error.message,
      metadata: statusMetadata(error),
    });
  };

  const Logs = (call: ServerWritableCall<apiv1.LogsRequest, apiv1.LogsChunk>) => {
    const started = performance.now();
    const abort = new AbortController();
    call.on("cancelled", () => abort.abort());
    call.on("close", () => abort.abort());
    const send = (data: Uint8Array): void | Promise<void> =>
      writeWithBackpressure(call, create(apiv1.LogsChunkSchema, { data }), abort.signal);
    streamLogs(lookups, call.request, send, abort.signal).then(
      () => {
        observe({
          verb: "get",
          resource: "pods/log",
          code: 200,
          durationMs: performance.now() - started,
        });
        if (!abort.signal.aborted) call.end();
      },
      (e: unknown) => fail(call, "get", "pods/log", started, e, abort.signal.aborted),
    );
  };

  const Exec = (call: ServerDuplexCall<apiv1.ExecFrame, apiv1.ExecFrame>) => {
    const started = performance.now();
    const abort = new AbortController();
    call.on("cancelled", () => abort.abort());
    call.on("error", () => abort.abort());
    const frames = (call as AsyncIterable<apiv1.ExecFrame>)[Symbol.asyncIterator]();
    (async () => {
      const opening = await first(frames);
      if (opening?.frame.case !== "start") {
        throw StatusError.badRequest(
          "exec: the first frame must be `start` (namespace, name, container, command)",
        );
      }
      const status = await runExec(lookups, opening.frame.value, {
        nextFrame: () => first(frames),
        send: (frame) => {
          call.write(create(apiv1.ExecFrameSchema, { frame }));
        },
        signal: abort.signal,
      });
      call.write(create(apiv1.ExecFrameSchema, { frame: { case: "status", value: status } }));
    })().then(
      () => {
        observe({
          verb: "create",
          resource: "pods/exec",
          code: 200,
          durationMs: performance.now() - started,
        });
        if (!abort.signal.aborted) call.end();
      },
      (e: unknown) => fail(call, "create", "pods/exec", started, e, abort.signal.aborted),
    );
  };

  return {
    Logs: Logs as Handler,
    Exec: Exec as Handler,
  };
}
