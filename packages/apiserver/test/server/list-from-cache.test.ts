// Lists served from the watch cache answer exactly what the store would: the same items, the
// same resourceVersion, the same continue tokens and remaining counts, with and without
// selectors and limits. One API server serves from its cache (the default), a second one on
// the same store from the store (consistentListFromCache: false); spies on the storage show
// which path served.

import { create } from "@bufbuild/protobuf";
import { NamespaceSchema, type Pod, PodSchema, ServiceAccountSchema } from "@tug/api";
import { type ApiClient, apiv1, type ApiListOptions as ListOptions } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ApiServer } from "../../src/server/api-server.js";
import { STORES } from "../support/stores.js";
import { type Harness, startHarness } from "./harness.js";

function pod(name: string, namespace: string, labels: Record<string, string>): Pod {
  return create(PodSchema, {
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: "app", image: "busybox" }] },
  });
}

/** What a list answered, comparable across servers. */
async function page(client: ApiClient, options: ListOptions) {
  const l = await client.list(PodSchema, options);
  return {
    items: l.items.map(
      (p) => `${p.metadata?.namespace}/${p.metadata?.name}@${p.metadata?.resourceVersion}`,
    ),
    resourceVersion: l.resourceVersion,
    continue: l.continue,
    remainingItemCount: l.remainingItemCount,
  };
}

/** Every page of a list, following continue tokens. */
async function allPages(client: ApiClient, options: ListOptions) {
  const pages = [await page(client, options)];
  for (let last = pages[0]; last?.continue; last = pages[pages.length - 1]) {
    pages.push(await page(client, { ...options, continue: last.continue }));
  }
  return pages;
}

/** The pods storage of `server`, to spy on which path served. */
function podsStore(server: ApiServer) {
  return server.handlers.resolve(
    create(apiv1.ResourceRefSchema, { group: "", version: "v1", resource: "pods" }),
  ).store;
}

describe.each(STORES)("lists from the watch cache on $name", ({ start }) => {
  let h: Harness;
  let cached: { server: ApiServer; client: ApiClient };
  let fromStore: { server: ApiServer; client: ApiClient };

  beforeAll(async () => {
    h = await startHarness(start);
    cached = { server: h.servers[0] as ApiServer, client: h.client };
    fromStore = await h.addServer({ consistentListFromCache: false });
    for (const ns of ["list-a", "list-b"]) {
      await h.client.create(NamespaceSchema, create(NamespaceSchema, { metadata: { name: ns } }));
      await h.client.create(
        ServiceAccountSchema,
        create(ServiceAccountSchema, { metadata: { name: "default", namespace: ns } }),
      );
      for (let i = 0; i < 12; i++) {
        await h.client.create(
          PodSchema,
          pod(`p${String(i).padStart(2, "0")}`, ns, { tier: i % 3 === 0 ? "db" : "web" }),
        );
      }
    }
    // Fill the cache and let it catch up with the store.
    await cached.client.list(PodSchema, {});
    await cached.client.list(PodSchema, {});
  });
  afterAll(async () => {
    await h?.stop();
  });

  const requests: [string, ListOptions][] = [
    ["a namespace", { namespace: "list-a" }],
    ["all namespaces", {}],
    ["a label selector", { labelSelector: "tier=db" }],
    ["a field selector", { namespace: "list-b", fieldSelector: "metadata.name!=p03" }],
    ["pages of 5", { limit: 5 }],
    ["pages of 5 in a namespace", { namespace: "list-b", limit: 5 }],
    ["pages of 3 with a selector", { labelSelector: "tier=web", limit: 3 }],
    ["a limit above the count", { namespace: "list-a", limit: 100 }],
    ["a limit of exactly the count", { namespace: "list-a", limit: 12 }],
  ];

  it.each(requests)("answers %s as the store does", async (_what, options) => {
    const fromCache = await allPages(cached.client, options);
    const stored = await allPages(fromStore.client, options);
    expect(fromCache).toEqual(stored);
    expect(fromCache[0]?.items.length).toBeGreaterThan(0);
  });

  it("serves the first page from the cache and later pages from the store", async () => {
    const cachedStore = podsStore(cached.server);
    const spy = vi.spyOn(cachedStore, "listEntries");
    try {
      const first = await cached.client.list(PodSchema, { limit: 5 });
      expect(first.items).toHaveLength(5);
      expect(spy).not.toHaveBeenCalled();
      await cached.client.list(PodSchema, { limit: 5, continue: first.continue });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it("shares one read of the store's revision among consistent lists that arrive together", async () => {
    const cachedStore = podsStore(cached.server);
    const spy = vi.spyOn(cachedStore, "currentRevision");
    try {
      const lists = await Promise.all(
        Array.from({ length: 100 }, () => cached.client.list(PodSchema, { namespace: "list-a" })),
      );
      expect(new Set(lists.map((l) => l.items.length))).toEqual(new Set([12]));
      // One read out at a time: the calls that arrive meanwhile share the next one.
      expect(spy.mock.calls.length).toBeGreaterThan(0);
      expect(spy.mock.calls.length).toBeLessThan(50);
    } finally {
      spy.mockRestore();
    }
  });

  it("sees a write made through another API server at once (a consistent read)", async () => {
    const made = await fromStore.client.create(PodSchema, pod("late", "list-a", { tier: "db" }));
    const l = await cached.client.list(PodSchema, { namespace: "list-a" });
    expect(l.items.map((p) => p.metadata?.name)).toContain("late");
    expect(Number(l.resourceVersion)).toBeGreaterThanOrEqual(
      Number(made.metadata?.resourceVersion),
    );
    await fromStore.client.delete(PodSchema, "late", { namespace: "list-a" });
  });
});
