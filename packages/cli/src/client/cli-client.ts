// What the CLI needs from the API server: Kubernetes' verbs on any kind, objects as
// protobuf-es messages. @tug/client's ApiClient provides these calls; the CLI depends on this
// narrow interface so that commands can be tested against an in-memory fake and so that it
// names exactly what it uses.
// https://kubernetes.io/docs/reference/using-api/api-concepts/

import type { JsonValue, KindInfo, objectFromJson } from "@tug/api";

/** An API object as a protobuf-es message (a Pod, a Deployment, ...). */
export type Message = ReturnType<typeof objectFromJson>;

export interface ListSelectors {
  /** Kubernetes label selector: "app=web,tier in (a,b)". */
  readonly labelSelector?: string;
  /** Kubernetes field selector: "metadata.name=web". */
  readonly fieldSelector?: string;
}

export interface ListResult {
  readonly items: Message[];
  /** The version the list was read at; a watch from it sees every later change. */
  readonly resourceVersion: string;
}

export interface DeleteOptions {
  /** Seconds before removal; undefined takes the kind's default, 0 removes at once. */
  readonly gracePeriodSeconds?: number;
  /** "Background", "Foreground" or "Orphan"; undefined takes the kind's default. */
  readonly propagationPolicy?: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: Message;
}

export interface WatchOptions extends ListSelectors {
  /** Changes after this version; "" or "0" first sends the current objects as ADDED. */
  readonly resourceVersion?: string;
  /** Ends the stream (the iterator finishes) once aborted. */
  readonly signal: AbortSignal;
}

/** One resource the server serves, as Discover reports it (`tug api-resources`). */
export interface ApiResourceInfo {
  readonly group: string;
  readonly version: string;
  /** Plural: "deployments". */
  readonly name: string;
  readonly shortNames: readonly string[];
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

/** PodLogOptions (kubectl logs' flags). */
export interface PodLogOptions {
  /** "" for the pod's only container. */
  readonly container: string;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  /** Ends the stream (the iterator finishes) once aborted. */
  readonly signal: AbortSignal;
}

/** PodExecOptions (kubectl exec's flags) and where the output goes. */
export interface PodExecOptions {
  /** "" for the pod's only container. */
  readonly container: string;
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly tty: boolean;
  onStdout(data: Uint8Array): void;
  onStderr(data: Uint8Array): void;
}

/** A running exec: stdin in, and how it ended. */
export interface PodExec {
  write(data: Uint8Array): void;
  closeStdin(): void;
  resize(width: number, height: number): void;
  cancel(): void;
  /** The command's exit code; rejects with the Status error when it could not run. */
  readonly done: Promise<{ readonly exitCode: number }>;
}

/** The patch formats the server accepts (PatchRequest.patch_type). */
export type PatchType = "application/merge-patch+json" | "application/json-patch+json";

/**
 * The API verbs the CLI calls. `namespace` is "" for cluster-scoped kinds (and, for list and
 * watch, for all namespaces). Every call rejects with an error carrying Kubernetes' status
 * `reason` ("NotFound", "AlreadyExists", "Conflict", "Invalid", ...), `code` and `message`
 * (as @tug/client's ApiError does); a call that never reached the server carries the cause.
 */
export interface CliClient {
  create(kind: KindInfo, namespace: string, object: Message): Promise<Message>;
  get(kind: KindInfo, namespace: string, name: string): Promise<Message>;
  list(kind: KindInfo, namespace: string, selectors?: ListSelectors): Promise<ListResult>;
  update(kind: KindInfo, namespace: string, object: Message): Promise<Message>;
  patch(
    kind: KindInfo,
    namespace: string,
    name: string,
    patchType: PatchType,
    patch: JsonValue,
  ): Promise<Message>;
  delete(
    kind: KindInfo,
    namespace: string,
    name: string,
    options?: DeleteOptions,
  ): Promise<Message>;
  /**
   * Evicts a pod through the Eviction API (pods/eviction): a delete that a
   * PodDisruptionBudget may refuse with reason "TooManyRequests" (429). Returns the pod.
   */
  evict(namespace: string, name: string, options?: DeleteOptions): Promise<Message>;
  watch(kind: KindInfo, namespace: string, options: WatchOptions): AsyncIterable<WatchEvent>;
  discover(): Promise<ApiResourceInfo[]>;
  /** A container's log (pods/log), streamed; absent in clients that cannot stream. */
  logs?(namespace: string, pod: string, options: PodLogOptions): AsyncIterable<Uint8Array>;
  /** Runs a command in a container (pods/exec); absent in clients that cannot stream. */
  exec?(namespace: string, pod: string, options: PodExecOptions): PodExec;
  /** Releases connections; the client is unusable afterwards. */
  close(): void;
}
