// The CliClient over @tug/client's ApiClient: the real connection to tug-apiserver. Only the
// argument shapes differ (the CLI passes namespaces positionally); errors are ApiError as the
// client throws them.

import { ApiClient } from "@tug/client";
import type { Connection } from "../config/config-ops.js";
import type { CliClient } from "./cli-client.js";

/**
 * A CliClient for the resolved connection. `requestTimeoutMs` 0 keeps ApiClient's default
 * deadline (DEFAULT_REQUEST_TIMEOUT_MS): a CLI call should not hang forever on a dead server.
 * The connection's bearer token (--token, or the context's user) goes with every call.
 */
export function connectApiClient(connection: Connection, requestTimeoutMs: number): CliClient {
  const client = new ApiClient({
    servers: [connection.server],
    ...(requestTimeoutMs > 0 ? { requestTimeoutMs } : {}),
    ...(connection.token === "" ? {} : { token: connection.token }),
  });
  return {
    create: (kind, namespace, object) => client.create(kind, object, { namespace }),
    get: (kind, namespace, name) => client.get(kind, name, { namespace }),
    list: async (kind, namespace, selectors) => {
      const result = await client.list(kind, {
        namespace,
        labelSelector: selectors?.labelSelector,
        fieldSelector: selectors?.fieldSelector,
      });
      return { items: result.items, resourceVersion: result.resourceVersion };
    },
    update: (kind, _namespace, object) => client.update(kind, object),
    patch: (kind, namespace, name, patchType, patch) =>
      client.patch(kind, name, {
        namespace,
        type: patchType === "application/merge-patch+json" ? "merge" : "json",
        patch,
      }),
    delete: (kind, namespace, name, options) =>
      client.delete(kind, name, {
        namespace,
        gracePeriodSeconds: options?.gracePeriodSeconds,
        propagationPolicy: options?.propagationPolicy,
      }),
    evict: (namespace, name, options) =>
      client.evict(namespace, name, {
        gracePeriodSeconds: options?.gracePeriodSeconds,
        propagationPolicy: options?.propagationPolicy,
      }),
    watch: (kind, namespace, options) =>
      client.watch(kind, {
        namespace,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        signal: options.signal,
      }),
    discover: async () =>
      (await client.discover()).map((r) => ({
        group: r.group,
        version: r.version,
        name: r.name,
        shortNames: r.shortNames,
        kind: r.kind,
        namespaced: r.namespaced,
        verbs: r.verbs,
      })),
    logs: (namespace, pod, options) =>
      client.logs(pod, {
        namespace,
        container: options.container,
        follow: options.follow,
        previous: options.previous,
        timestamps: options.timestamps,
        ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }),
        ...(options.sinceSeconds === undefined ? {} : { sinceSeconds: options.sinceSeconds }),
        signal: options.signal,
      }),
    exec: (namespace, pod, options) => client.exec(pod, { namespace, ...options }),
    close: () => client.close(),
  };
}
