// tug.apiserver.v1.Api on @tug/grpc's server: each method decodes its request (protobuf-es,
// through the shared service definition), runs the verb, and answers with the response or with
// the error's gRPC code plus the Kubernetes Status in the "tug-status-bin" trailer.

import { toBinary } from "@bufbuild/protobuf";
import { type KindInfo, StatusSchema } from "@tug/api";
import { type ApiMethodName, type apiv1, STATUS_METADATA_KEY } from "@tug/client";
import {
  type Handler,
  Metadata,
  type SendUnaryData,
  type ServerUnaryCall,
  type ServerWritableCall,
} from "@tug/grpc";
import type { ApiHandlers } from "./api-handlers.js";
import { type MaxInFlight, type RequestKind, tooManyRequests } from "./max-in-flight.js";
import { podStreamMethods } from "./pod-stream-service.js";
import { msUntilTimeoutAnswer, requestTimeout } from "./request-timeout.js";
import { type StatusError, toStatusError } from "./status-error.js";
import { writeWithBackpressure } from "./stream-write.js";

/** One finished call, for metrics and logs. */
export interface CallRecord {
  /** Kubernetes' verb: "create", "get", "list", "update", "patch", "delete", "watch", ... */
  readonly verb: string;
  /** "pods", "deployments.apps"; "" when the request named no resource. */
  readonly resource: string;
  /** The HTTP code Kubernetes would answer with: 200, 201, 404, 409, ... */
  readonly code: number;
  readonly durationMs: number;
  readonly error?: StatusError;
  /** Set when the request was refused by the in-flight limit (429), with its kind. */
  readonly dropped?: RequestKind;
  /**
   * Set on a watch the server ended because the client did not read its events fast enough
   * (its buffer in the watch cache filled up); the client watches again from its last
   * resourceVersion, as from any ended watch.
   */
  readonly terminated?: true;
}

export type CallObserver = (record: CallRecord) => void;

/** Called for every event sent to a watcher ("pods", "ADDED"). */
export type WatchEventObserver = (resource: string, type: string) => void;

/** The Kubernetes verb of each method. */
const VERBS: Readonly<Record<ApiMethodName, string>> = {
  Create: "create",
  Get: "get",
  List: "list",
  Update: "update",
  UpdateStatus: "update",
  Finalize: "update",
  Patch: "patch",
  Delete: "delete",
  DeleteCollection: "deletecollection",
  Watch: "watch",
  Bind: "create",
  Evict: "create",
  Discover: "get",
  Logs: "get",
  Exec: "create",
};

function resourceName(ref: apiv1.ResourceRef | undefined, sub = ""): string {
  if (ref === undefined) return sub;
  const base = ref.group === "" ? ref.resource : `${ref.resource}.${ref.group}`;
  return sub === "" ? base : `${base}/${sub}`;
}

/** Reads: counted against --max-requests-inflight; every other unary verb is mutating. */
const READ_ONLY_VERBS = new Set(["get", "list"]);

/** The trailer carrying a Status. */
export function statusMetadata(error: StatusError): Metadata {
  const md = new Metadata();
  md.set(STATUS_METADATA_KEY, Buffer.from(toBinary(StatusSchema, error.toStatus())));
  return md;
}

/** The handlers of the service's methods, by method name. */
export type ApiImplementation = Record<string, Handler>;

/** The gRPC error (grpc-js's shape) that carries `error`'s Status to the client. */
export function serviceError(error: StatusError) {
  return {
    name: "StatusError",
    message: error.message,
    code: error.grpcCode,
    details: error.message,
    metadata: statusMetadata(error),
  };
}

function contextOf(
  handlers: ApiHandlers,
  ref: apiv1.ResourceRef | undefined,
  name: string,
): { kind: KindInfo; name: string } | undefined {
  try {
    return { kind: handlers.resolve(ref).kind, name };
  } catch {
    return undefined;
  }
}

/** The implementation of every method of the service. */
export function grpcImplementation(
  handlers: ApiHandlers,
  observe: CallObserver = () => undefined,
  onWatchEvent: WatchEventObserver = () => undefined,
  /** Load shedding of unary calls (watches are long-running and not counted); none if unset. */
  inFlight?: MaxInFlight,
): ApiImplementation {
  const unary =
    <Req, Res>(
      method: ApiMethodName,
      run: (req: Req) => Promise<Res> | Res,
      describe: (req: Req) => { resource: string; ref?: apiv1.ResourceRef; name: string },
      successCode = 200,
    ) =>
    (call: ServerUnaryCall<Req>, callback: SendUnaryData<Res>) => {
      const started = performance.now();
      const info = describe(call.request);
      const verb = VERBS[method] ?? method.toLowerCase();
      const requestKind: RequestKind = READ_ONLY_VERBS.has(verb) ? "readOnly" : "mutating";
      const release = inFlight === undefined ? () => undefined : inFlight.tryAcquire(requestKind);
      // Answered once: by the handler, refused by the in-flight limit, or with Timeout just
      // before the client's deadline.
      let answered = false;
      let timer: NodeJS.Timeout | undefined;
      const answer = (code: number, res: Res | undefined, error?: StatusError) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        observe({
          verb,
          resource: info.resource,
          code,
          durationMs: performance.now() - started,
          ...(error === undefined ? {} : { error }),
          ...(release === undefined ? { dropped: requestKind } : {}),
        });
        if (error === undefined) callback(null, res);
        else callback(serviceError(error));
      };
      const fail = (error: StatusError) => answer(error.code, undefined, error);
      if (release === undefined) {
        fail(tooManyRequests());
        return;
      }
      const timeoutIn = msUntilTimeoutAnswer(call.getDeadline());
      if (timeoutIn !== undefined) timer = setTimeout(() => fail(requestTimeout()), timeoutIn);
      Promise.resolve()
        .then(() => run(call.request))
        .finally(release)
        .then(
          (res) => answer(successCode, res),
          (e: unknown) => fail(toStatusError(e, contextOf(handlers, info.ref, info.name))),
        );
    };
  const objectName = (ref: apiv1.ResourceRef | undefined) => ref?.name ?? "";
  return {
    Create: unary<apiv1.CreateRequest, apiv1.ObjectResponse>(
      "Create",
      (req) => handlers.create(req),
      (req) => ({
        resource: resourceName(req.ref),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
      201,
    ),
    Get: unary<apiv1.GetRequest, apiv1.ObjectResponse>(
      "Get",
      (req) => handlers.get(req),
      (req) => ({
        resource: resourceName(req.ref),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
    ),
    List: unary<apiv1.ListRequest, apiv1.ListResponse>(
      "List",
      (req) => handlers.list(req),
      (req) => ({ resource: resourceName(req.ref), ...refField(req.ref), name: "" }),
    ),
    Update: unary<apiv1.UpdateRequest, apiv1.ObjectResponse>(
      "Update",
      (req) => handlers.update(req, "spec"),
      (req) => ({
        resource: resourceName(req.ref),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
    ),
    UpdateStatus: unary<apiv1.UpdateRequest, apiv1.ObjectResponse>(
      "UpdateStatus",
      (req) => handlers.update(req, "status"),
      (req) => ({
        resource: resourceName(req.ref, "status"),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
    ),
    Finalize: unary<apiv1.UpdateRequest, apiv1.ObjectResponse>(
      "Finalize",
      (req) => handlers.update(req, "finalize"),
      (req) => ({
        resource: resourceName(req.ref, "finalize"),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
    ),
    Patch: unary<apiv1.PatchRequest, apiv1.ObjectResponse>(
      "Patch",
      (req) => handlers.patch(req),
      (req) => ({
        resource: resourceName(req.ref, req.status ? "status" : ""),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
    ),
    Delete: unary<apiv1.DeleteRequest, apiv1.ObjectResponse>(
      "Delete",
      (req) => handlers.delete(req),
      (req) => ({
        resource: resourceName(req.ref),
        ...refField(req.ref),
        name: objectName(req.ref),
      }),
    ),
    DeleteCollection: unary<apiv1.DeleteCollectionRequest, apiv1.ListResponse>(
      "DeleteCollection",
      (req) => handlers.deleteCollection(req),
      (req) => ({ resource: resourceName(req.ref), ...refField(req.ref), name: "" }),
    ),
    Bind: unary<apiv1.BindRequest, apiv1.ObjectResponse>(
      "Bind",
      (req) => handlers.bind(req),
      (req) => ({ resource: "pods/binding", name: req.name }),
      201,
    ),
    Evict: unary<apiv1.EvictRequest, apiv1.ObjectResponse>(
      "Evict",
      (req) => handlers.evict(req),
      (req) => ({ resource: "pods/eviction", name: req.name }),
      201,
    ),
    Discover: unary<apiv1.DiscoverRequest, apiv1.DiscoverResponse>(
      "Discover",
      () => handlers.discover(),
      () => ({ resource: "", name: "" }),
    ),
    // Logs and Exec (streams proxied to the pod's agent), not counted by the in-flight limit.
    ...podStreamMethods(handlers, observe),
    Watch: (call: ServerWritableCall<apiv1.WatchRequest, apiv1.WatchEvent>) => {
      const started = performance.now();
      const resource = resourceName(call.request.ref);
      const abort = new AbortController();
      call.on("cancelled", () => abort.abort());
      call.on("close", () => abort.abort());
      const send = (event: apiv1.WatchEvent): void | Promise<void> => {
        onWatchEvent(resource, event.type);
        return writeWithBackpressure(call, event, abort.signal);
      };
      handlers.watch(call.request, send, abort.signal).then(
        (reason) => {
          observe({
            verb: "watch",
            resource,
            code: 200,
            durationMs: performance.now() - started,
            ...(reason === "slow" ? { terminated: true } : {}),
          });
          if (!abort.signal.aborted) call.end();
        },
        (e: unknown) => {
          const error = toStatusError(e);
          observe({
            verb: "watch",
            resource,
            code: error.code,
            durationMs: performance.now() - started,
            error,
          });
          if (!abort.signal.aborted) call.emit("error", serviceError(error));
        },
      );
    },
  };
}

function refField(ref: apiv1.ResourceRef | undefined): { ref?: apiv1.ResourceRef } {
  return ref === undefined ? {} : { ref };
}
