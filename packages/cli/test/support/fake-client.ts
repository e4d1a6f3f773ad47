// An in-memory API server behind the CliClient interface, for command tests: objects kept as
// Kubernetes JSON, resourceVersions from a counter, Kubernetes' error reasons and messages,
// merge patches, label and field selectors (any field path of the JSON), and watches fed by
// every write. Deterministic: uids and timestamps come from counters and a fixed clock.

import {
  allKinds,
  applyMergePatch,
  fields,
  type JsonObject,
  type JsonValue,
  type KindInfo,
  labels,
  objectFromJson,
  objectToJson,
} from "@tug/api";
import type {
  ApiResourceInfo,
  CliClient,
  DeleteOptions,
  ListResult,
  ListSelectors,
  Message,
  PatchType,
  WatchEvent,
  WatchOptions,
} from "../../src/client/cli-client.js";

export class FakeApiError extends Error {
  constructor(
    readonly reason: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Listener = (event: {
  type: "ADDED" | "MODIFIED" | "DELETED";
  kind: KindInfo;
  json: JsonObject;
}) => void;

function at(json: JsonValue | undefined, path: string): string {
  let current: JsonValue | undefined = json;
  for (const name of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return "";
    current = current[name];
  }
  return typeof current === "string" ? current : current === undefined ? "" : `${current}`;
}

function meta(json: JsonObject): JsonObject {
  const m = json.metadata;
  if (typeof m === "object" && m !== null && !Array.isArray(m)) return m;
  const created: JsonObject = {};
  json.metadata = created;
  return created;
}

export class FakeClient implements CliClient {
  readonly objects = new Map<string, JsonObject>();
  /** Every call, "verb resource namespace/name", for assertions. */
  readonly calls: string[] = [];
  #revision = 1;
  #uid = 0;
  #listeners = new Set<Listener>();
  closed = false;
  /** Graceful deletion: delete sets deletionTimestamp instead of removing (then removes after a get). */
  gracefulDeletes = false;

  constructor(readonly created = "2024-05-01T11:00:00Z") {}

  #key(kind: KindInfo, namespace: string, name: string): string {
    return `${kind.group}/${kind.resource}/${kind.namespaced ? namespace : ""}/${name}`;
  }

  #notFound(kind: KindInfo, name: string): FakeApiError {
    const resource = kind.group === "" ? kind.resource : `${kind.resource}.${kind.group}`;
    return new FakeApiError("NotFound", 404, `${resource} "${name}" not found`);
  }

  #emit(type: "ADDED" | "MODIFIED" | "DELETED", kind: KindInfo, json: JsonObject): void {
    for (const listener of this.#listeners) listener({ type, kind, json: structuredClone(json) });
  }

  /** Stores an object directly (test setup), as the server would after a create. */
  seed(json: JsonObject): void {
    const message = objectFromJson(json);
    const kind = allKinds.find((k) => k.apiVersion === json.apiVersion && k.kind === json.kind);
    if (kind === undefined) throw new Error(`unknown kind ${json.kind}`);
    const namespace = kind.namespaced ? at(json, "metadata.namespace") || "default" : "";
    this.#store(kind, namespace, objectToJson(message), true);
  }

  #store(kind: KindInfo, namespace: string, json: JsonObject, isNew: boolean): JsonObject {
    const m = meta(json);
    if (kind.namespaced) m.namespace = namespace;
    if (isNew) {
      m.uid = m.uid ?? `uid-${++this.#uid}`;
      m.creationTimestamp = m.creationTimestamp ?? this.created;
    }
    m.resourceVersion = `${++this.#revision}`;
    const stored = objectToJson(objectFromJson(json));
    this.objects.set(this.#key(kind, namespace, at(json, "metadata.name")), stored);
    this.#emit(isNew ? "ADDED" : "MODIFIED", kind, stored);
    return stored;
  }

  async create(kind: KindInfo, namespace: string, object: Message): Promise<Message> {
    const json = objectToJson(object);
    const name = at(json, "metadata.name");
    this.calls.push(`create ${kind.resource} ${namespace}/${name}`);
    if (name === "")
      throw new FakeApiError(
        "Invalid",
        422,
        `${kind.kind} "" is invalid: metadata.name: Required value`,
      );
    if (this.objects.has(this.#key(kind, namespace, name))) {
      throw new FakeApiError("AlreadyExists", 409, `${kind.resource} "${name}" already exists`);
    }
    return objectFromJson(this.#store(kind, namespace, json, true));
  }

  async get(kind: KindInfo, namespace: string, name: string): Promise<Message> {
    this.calls.push(`get ${kind.resource} ${namespace}/${name}`);
    const key = this.#key(kind, namespace, name);
    const found = this.objects.get(key);
    if (found === undefined) throw this.#notFound(kind, name);
    if (this.gracefulDeletes && at(found, "metadata.deletionTimestamp") !== "") {
      // The "agent" finishes termination once someone looks again.
      this.objects.delete(key);
      this.#emit("DELETED", kind, found);
    }
    return objectFromJson(found);
  }

  #matching(kind: KindInfo, namespace: string, selectors: ListSelectors | undefined): JsonObject[] {
    const labelSelector = labels.Selector.parse(selectors?.labelSelector ?? "");
    const fieldSelector = fields.Selector.parse(selectors?.fieldSelector ?? "");
    const prefix = `${kind.group}/${kind.resource}/${namespace === "" ? "" : `${namespace}/`}`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, json]) => json)
      .filter((json) => {
        const m = json.metadata as JsonObject;
        return (
          labelSelector.matches((m.labels ?? {}) as Record<string, string>) &&
          fieldSelector.matches((field: string) => at(json, field))
        );
      });
  }

  async list(kind: KindInfo, namespace: string, selectors?: ListSelectors): Promise<ListResult> {
    this.calls.push(`list ${kind.resource} ${namespace}`);
    return {
      items: this.#matching(kind, namespace, selectors).map((json) => objectFromJson(json)),
      resourceVersion: `${this.#revision}`,
    };
  }

  async update(kind: KindInfo, namespace: string, object: Message): Promise<Message> {
    const json = objectToJson(object);
    const name = at(json, "metadata.name");
    this.calls.push(`update ${kind.resource} ${namespace}/${name}`);
    const current = this.objects.get(this.#key(kind, namespace, name));
    if (current === undefined) throw this.#notFound(kind, name);
    const rv = at(json, "metadata.resourceVersion");
    if (rv !== "" && rv !== at(current, "metadata.resourceVersion")) {
      throw new FakeApiError(
        "Conflict",
        409,
        `Operation cannot be fulfilled on ${kind.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const m = meta(json);
    m.uid = (current.metadata as JsonObject).uid ?? null;
    m.creationTimestamp = (current.metadata as JsonObject).creationTimestamp ?? null;
    if (json.status === undefined && current.status !== undefined) json.status = current.status;
    return objectFromJson(this.#store(kind, namespace, json, false));
  }

  async patch(
    kind: KindInfo,
    namespace: string,
    name: string,
    patchType: PatchType,
    patch: JsonValue,
  ): Promise<Message> {
    this.calls.push(`patch ${kind.resource} ${namespace}/${name} ${JSON.stringify(patch)}`);
    if (patchType !== "application/merge-patch+json") throw new Error("fake: merge patches only");
    const current = this.objects.get(this.#key(kind, namespace, name));
    if (current === undefined) throw this.#notFound(kind, name);
    const patched = applyMergePatch(structuredClone(current), patch) as JsonObject;
    const rv = at(patch, "metadata.resourceVersion");
    if (rv !== "" && rv !== at(current, "metadata.resourceVersion")) {
      throw new FakeApiError(
        "Conflict",
        409,
        `Operation cannot be fulfilled on ${kind.resource} "${name}"`,
      );
    }
    return objectFromJson(this.#store(kind, namespace, patched, false));
  }

  async delete(
    kind: KindInfo,
    namespace: string,
    name: string,
    options?: DeleteOptions,
  ): Promise<Message> {
    this.calls.push(
      `delete ${kind.resource} ${namespace}/${name} ${JSON.stringify(options ?? {})}`,
    );
    const key = this.#key(kind, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw this.#notFound(kind, name);
    if (this.gracefulDeletes && options?.gracePeriodSeconds !== 0) {
      meta(current).deletionTimestamp = "2024-05-01T12:00:30Z";
      return objectFromJson(this.#store(kind, namespace, current, false));
    }
    this.objects.delete(key);
    this.#emit("DELETED", kind, current);
    return objectFromJson(current);
  }

  /**
   * Evictions a PodDisruptionBudget refuses, per "namespace/name": each refusal is used up by
   * one evict call that fails with 429 TooManyRequests, as the API server answers.
   */
  readonly evictionRefusals = new Map<string, number>();

  async evict(namespace: string, name: string, options?: DeleteOptions): Promise<Message> {
    this.calls.push(`evict pods ${namespace}/${name}`);
    const pods = allKinds.find((k) => k.group === "" && k.resource === "pods") as KindInfo;
    if (!this.objects.has(this.#key(pods, namespace, name))) throw this.#notFound(pods, name);
    const refusals = this.evictionRefusals.get(`${namespace}/${name}`) ?? 0;
    if (refusals > 0) {
      this.evictionRefusals.set(`${namespace}/${name}`, refusals - 1);
      throw new FakeApiError(
        "TooManyRequests",
        429,
        "Cannot evict pod as it would violate the pod's disruption budget.",
      );
    }
    return this.delete(pods, namespace, name, options);
  }

  watch(kind: KindInfo, namespace: string, options: WatchOptions): AsyncIterable<WatchEvent> {
    this.calls.push(`watch ${kind.resource} ${namespace} from ${options.resourceVersion ?? ""}`);
    const queue: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    const labelSelector = labels.Selector.parse(options.labelSelector ?? "");
    const listener: Listener = (event) => {
      if (event.kind !== kind) return;
      if (namespace !== "" && at(event.json, "metadata.namespace") !== namespace) return;
      if (
        !labelSelector.matches(
          ((event.json.metadata as JsonObject).labels ?? {}) as Record<string, string>,
        )
      )
        return;
      queue.push({ type: event.type, object: objectFromJson(event.json) });
      wake?.();
    };
    this.#listeners.add(listener);
    const listeners = this.#listeners;
    const signal = options.signal;
    return {
      async *[Symbol.asyncIterator]() {
        const onAbort = () => wake?.();
        signal.addEventListener("abort", onAbort);
        try {
          for (;;) {
            while (queue.length > 0) yield queue.shift() as WatchEvent;
            if (signal.aborted) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          signal.removeEventListener("abort", onAbort);
          listeners.delete(listener);
        }
      },
    };
  }

  /** How many watches are open (for asserting they are released). */
  get watchers(): number {
    return this.#listeners.size;
  }

  async discover(): Promise<ApiResourceInfo[]> {
    return allKinds
      .filter((k) => !k.subresourceBody)
      .map((k) => ({
        group: k.group,
        version: k.version,
        name: k.resource,
        shortNames: k.shortNames,
        kind: k.kind,
        namespaced: k.namespaced,
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      }));
  }

  close(): void {
    this.closed = true;
  }
}
