// tug-apiserver end to end over real sockets: the API service on tug-store and on etcd 3.4,
// driven through @tug/client's ApiClient.

import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  BindingSchema,
  ConfigMapSchema,
  EventSchema,
  LeaseSchema,
  NamespaceSchema,
  type Pod,
  PodDisruptionBudgetSchema,
  PodSchema,
} from "@tug/api";
import { ApiClient, type ApiError } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient } from "../../src/storage/etcd-client.js";
import { failure } from "../support/api-failure.js";
import { STORES } from "../support/stores.js";
import { type Harness, startHarness } from "./harness.js";

/** Short, so that the bookmark test sees one quickly (Kubernetes: about a minute). */
const BOOKMARK_INTERVAL_MS = 200;

const _FIXTURES = join(import.meta.dirname, "../../../api/test/fixtures");

function pod(name: string, labels: Record<string, string> = {}, namespace = "default"): Pod {
  return create(PodSchema, {
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: "app", image: "busybox" }] },
  });
}

describe.each(STORES)("tug-apiserver on $name", ({ start }) => {
  let h: Harness;
  let client: ApiClient;

  beforeAll(async () => {
    h = await startHarness(start, { watchCache: { bookmarkIntervalMs: BOOKMARK_INTERVAL_MS } });
    client = h.client;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("creates the system namespaces at start", async () => {
    const list = await client.list(NamespaceSchema);
    expect(list.items.map((n) => n.metadata?.name).sort()).toEqual([
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
    ]);
    expect(list.items[0]?.status?.phase).toBe("Active");
  });

  it("creates, gets and refuses a second create of the same name", async () => {
    const created = await client.create(PodSchema, pod("web", { app: "web" }));
    expect(created.metadata?.uid).not.toBe("");
    expect(created.metadata?.resourceVersion).not.toBe("");
    expect(created.metadata?.creationTimestamp).toBeDefined();
    expect(created.status?.phase).toBe("Pending");
    expect(created.kind).toBe("Pod");
    const got = await client.get(PodSchema, "web", { namespace: "default" });
    expect(got.metadata?.uid).toBe(created.metadata?.uid);
    const e = await failure(client.create(PodSchema, pod("web")));
    expect(e.reason).toBe("AlreadyExists");
    expect(e.code).toBe(409);
    expect(e.message).toBe('pods "web" already exists');
    const missing = await failure(client.get(PodSchema, "nope", { namespace: "default" }));
    expect(missing.reason).toBe("NotFound");
    expect(missing.message).toBe('pods "nope" not found');
  });

  it("names objects from generateName", async () => {
    const p = pod("");
    p.metadata = { ...p.metadata, name: "", generateName: "gen-" } as Pod["metadata"];
    const created = await client.create(PodSchema, p);
    expect(created.metadata?.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it("lists with label and field selectors and in pages", async () => {
    for (let i = 0; i < 5; i++) {
      await client.create(
        PodSchema,
        pod(`page-${i}`, { tier: i % 2 === 0 ? "even" : "odd" }, "kube-public"),
      );
    }
    const even = await client.list(PodSchema, {
      namespace: "kube-public",
      labelSelector: "tier=even",
    });
    expect(even.items.map((p) => p.metadata?.name)).toEqual(["page-0", "page-2", "page-4"]);
    const named = await client.list(PodSchema, {
      namespace: "kube-public",
      fieldSelector: "metadata.name=page-3",
    });
    expect(named.items.map((p) => p.metadata?.name)).toEqual(["page-3"]);
    const names: string[] = [];
    let cont = "";
    let pages = 0;
    do {
      const page = await client.list(PodSchema, {
        namespace: "kube-public",
        labelSelector: "tier in (even,odd)",
        limit: 2,
        continue: cont,
      });
      names.push(...page.items.map((p) => p.metadata?.name ?? ""));
      cont = page.continue;
      pages++;
    } while (cont !== "");
    expect(names).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
    expect(pages).toBe(3);
    const bad = await failure(
      client.list(PodSchema, { namespace: "kube-public", fieldSelector: "spec.nope=x" }),
    );
    expect(bad.reason).toBe("BadRequest");
    expect(bad.message).toContain("spec.nope");
    const cached = await client.list(PodSchema, { namespace: "kube-public", resourceVersion: "0" });
    expect(cached.items).toHaveLength(5);
  });

  it("updates with optimistic concurrency and keeps status out of updates", async () => {
    const created = await client.create(PodSchema, pod("upd"));
    const first = structuredClone(created);
    first.metadata = { ...first.metadata, labels: { v: "1" } } as Pod["metadata"];
    if (first.status) first.status.phase = "Running";
    const updated = await client.update(PodSchema, first);
    expect(updated.metadata?.labels).toEqual({ v: "1" });
    expect(updated.status?.phase).toBe("Pending");
    const stale = structuredClone(created);
    stale.metadata = { ...stale.metadata, labels: { v: "2" } } as Pod["metadata"];
    const conflict = await failure(client.update(PodSchema, stale));
    expect(conflict.reason).toBe("Conflict");
    expect(conflict.message).toBe(
      'Operation cannot be fulfilled on pods "upd": the object has been modified; please apply your changes to the latest version and try again',
    );
    const unconditional = structuredClone(stale);
    if (unconditional.metadata) unconditional.metadata.resourceVersion = "";
    expect((await client.update(PodSchema, unconditional)).metadata?.labels).toEqual({ v: "2" });
    const status = structuredClone(updated);
    if (status.metadata) status.metadata.resourceVersion = "";
    if (status.status) status.status.phase = "Running";
    if (status.metadata) status.metadata.labels = { ignored: "yes" };
    const afterStatus = await client.updateStatus(PodSchema, status);
    expect(afterStatus.status?.phase).toBe("Running");
    expect(afterStatus.metadata?.labels).toEqual({ v: "2" });
    const missing = await failure(client.update(PodSchema, pod("never-created")));
    expect(missing.reason).toBe("NotFound");
  });

  it("patches with merge and JSON patches, and the status subresource", async () => {
    await client.create(PodSchema, pod("patched", { a: "1" }));
    const merged = await client.patch(PodSchema, "patched", {
      namespace: "default",
      type: "merge",
      patch: { metadata: { labels: { b: "2", a: null } } },
    });
    expect(merged.metadata?.labels).toEqual({ b: "2" });
    const jsonPatched = await client.patch(PodSchema, "patched", {
      namespace: "default",
      type: "json",
      patch: [{ op: "add", path: "/metadata/annotations", value: { note: "x" } }],
    });
    expect(jsonPatched.metadata?.annotations).toEqual({ note: "x" });
    const status = await client.patch(PodSchema, "patched", {
      namespace: "default",
      type: "merge",
      status: true,
      patch: { status: { phase: "Running" }, metadata: { labels: { c: "3" } } },
    });
    expect(status.status?.phase).toBe("Running");
    expect(status.metadata?.labels).toEqual({ b: "2" });
    const failed = await failure(
      client.patch(PodSchema, "patched", {
        namespace: "default",
        type: "json",
        patch: [{ op: "test", path: "/metadata/name", value: "other" }],
      }),
    );
    expect(failed.reason).toBe("Invalid");
    const stale = await failure(
      client.patch(PodSchema, "patched", {
        namespace: "default",
        type: "merge",
        patch: { metadata: { resourceVersion: "1" } },
      }),
    );
    expect(stale.reason).toBe("Conflict");
  });

  it("deletes at once, gracefully, after finalizers, and only when preconditions hold", async () => {
    const p = await client.create(PodSchema, pod("gone"));
    const pre = await failure(
      client.delete(PodSchema, "gone", {
        namespace: "default",
        preconditions: { uid: "not-the-uid" },
      }),
    );
    expect(pre.reason).toBe("Conflict");
    expect(pre.message).toContain("Precondition failed: UID in precondition: not-the-uid");
    await client.delete(PodSchema, "gone", {
      namespace: "default",
      preconditions: { uid: p.metadata?.uid ?? "" },
    });
    expect((await failure(client.get(PodSchema, "gone", { namespace: "default" }))).reason).toBe(
      "NotFound",
    );

    // A pod on a node waits for its grace period.
    await client.create(PodSchema, pod("graceful"));
    await client.bind("default", "graceful", "node-1");
    const deleting = await client.delete(PodSchema, "graceful", {
      namespace: "default",
      gracePeriodSeconds: 30,
    });
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    expect(deleting.metadata?.deletionGracePeriodSeconds).toBe(30);
    await client.delete(PodSchema, "graceful", { namespace: "default", gracePeriodSeconds: 0 });
    expect(
      (await failure(client.get(PodSchema, "graceful", { namespace: "default" }))).reason,
    ).toBe("NotFound");

    // A finalizer keeps the object until an update removes it.
    const cm = create(ConfigMapSchema, {
      metadata: { name: "held", namespace: "default", finalizers: ["example.com/hold"] },
      data: { k: "v" },
    });
    await client.create(ConfigMapSchema, cm);
    const held = await client.delete(ConfigMapSchema, "held", { namespace: "default" });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    const still = await client.get(ConfigMapSchema, "held", { namespace: "default" });
    if (still.metadata) still.metadata.finalizers = [];
    await client.update(ConfigMapSchema, still);
    expect(
      (await failure(client.get(ConfigMapSchema, "held", { namespace: "default" }))).reason,
    ).toBe("NotFound");
  });

  it("binds a pod once, with the PodScheduled condition", async () => {
    await client.create(PodSchema, pod("bindme"));
    const bound = (await client.bind("default", "bindme", "node-a")) as Pod;
    expect(bound.spec?.nodeName).toBe("node-a");
    const cond = bound.status?.conditions.find((c) => c.type === "PodScheduled");
    expect(cond?.status).toBe("True");
    const again = await failure(client.bind("default", "bindme", "node-b"));
    expect(again.reason).toBe("Conflict");
    expect(again.message).toContain('pod bindme is already assigned to node "node-a"');
    expect((await failure(client.bind("default", "ghost", "node-a"))).reason).toBe("NotFound");
    // The older spelling: create a Binding naming the pod.
    await client.create(PodSchema, pod("bindobj"));
    await client.create(
      BindingSchema,
      create(BindingSchema, {
        metadata: { name: "bindobj", namespace: "default" },
        target: { kind: "Node", name: "node-c" },
      }),
    );
    expect((await client.get(PodSchema, "bindobj", { namespace: "default" })).spec?.nodeName).toBe(
      "node-c",
    );
  });

  it("refuses objects in a missing namespace, bad names and oversized objects", async () => {
    const noNs = await failure(client.create(PodSchema, pod("x", {}, "no-such-ns")));
    expect(noNs.reason).toBe("NotFound");
    expect(noNs.message).toBe('namespaces "no-such-ns" not found');
    const badName = await failure(client.create(PodSchema, pod("a/b")));
    expect(badName.reason).toBe("Invalid");
    expect(badName.code).toBe(422);
    expect(badName.message).toContain('Pod "a/b" is invalid: metadata.name');
    expect(badName.causes[0]?.field).toBe("metadata.name");
    // Validation lets a Lease's holderIdentity be any length; the size check does not.
    const big = create(LeaseSchema, {
      metadata: { name: "big", namespace: "default" },
      spec: { holderIdentity: "x".repeat(1_600_000) },
    });
    const tooLarge = await failure(client.create(LeaseSchema, big));
    expect(tooLarge.reason).toBe("RequestEntityTooLarge");
    expect(tooLarge.code).toBe(413);
    expect((await failure(client.get(LeaseSchema, "big", { namespace: "default" }))).reason).toBe(
      "NotFound",
    );
    const bigData = await failure(
      client.create(
        ConfigMapSchema,
        create(ConfigMapSchema, {
          metadata: { name: "big", namespace: "default" },
          data: { blob: "x".repeat(1_100_000) },
        }),
      ),
    );
    expect(bigData.reason).toBe("Invalid");
    const dry = await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        metadata: { name: "dry", namespace: "default" },
      }),
      { dryRun: true },
    );
    expect(dry.metadata?.name).toBe("dry");
    expect(
      (await failure(client.get(ConfigMapSchema, "dry", { namespace: "default" }))).reason,
    ).toBe("NotFound");
  });

  it("answers an unknown resource with NotFound", async () => {
    const kind = { ...(await import("@tug/api")).kindForResource("", "pods"), resource: "nopes" };
    const e = await failure(client.list(kind as never));
    expect(e.reason).toBe("NotFound");
    expect(e.message).toBe("the server could not find the requested resource");
  });

  it("watches from a resourceVersion, with selectors and bookmarks", async () => {
    const start = await client.list(PodSchema, { namespace: "kube-system" });
    const abort = new AbortController();
    const stream = client.watch(PodSchema, {
      namespace: "kube-system",
      labelSelector: "watch=yes",
      resourceVersion: start.resourceVersion,
      signal: abort.signal,
    });
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of stream) {
        seen.push(`${ev.type} ${ev.object.metadata?.name}`);
        if (seen.length === 3) abort.abort();
      }
    })();
    await client.create(PodSchema, pod("w1", { watch: "yes" }, "kube-system"));
    await client.create(PodSchema, pod("w2", { watch: "no" }, "kube-system"));
    await client.patch(PodSchema, "w1", {
      namespace: "kube-system",
      type: "merge",
      patch: { metadata: { annotations: { a: "b" } } },
    });
    await client.delete(PodSchema, "w1", { namespace: "kube-system" });
    await done;
    expect(seen).toEqual(["ADDED w1", "MODIFIED w1", "DELETED w1"]);
  });

  it("ends a watch from a compacted version with an Expired error event", async () => {
    const etcd = new EtcdClient({ endpoints: h.store.endpoints });
    try {
      const old = await client.list(PodSchema, { namespace: "default" });
      for (let i = 0; i < 3; i++) {
        await client.create(PodSchema, pod(`compact-${i}`));
      }
      const now = await client.list(PodSchema, { namespace: "default" });
      await etcd.compact(Number(now.resourceVersion));
      // A second API server has a fresh watch cache whose window starts after the compaction.
      const other = await h.addServer();
      const stream = other.client.watch(PodSchema, {
        namespace: "default",
        resourceVersion: String(Number(old.resourceVersion) - 1 || 1),
      });
      const e = await (async () => {
        try {
          for await (const _ of stream) {
            // no events expected
          }
        } catch (err) {
          return err as ApiError;
        }
        throw new Error("the watch ended without an error");
      })();
      expect(e.reason).toBe("Expired");
      expect(e.code).toBe(410);
    } finally {
      etcd.close();
    }
  });

  it("serves one store through two API servers", async () => {
    const other = await h.addServer();
    await other.client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        metadata: { name: "shared", namespace: "default" },
        data: { from: "second" },
      }),
    );
    const seen = await client.get(ConfigMapSchema, "shared", { namespace: "default" });
    expect(seen.data).toEqual({ from: "second" });
    const both = new ApiClient({ servers: ["127.0.0.1:1", other.server.address] });
    try {
      expect((await both.get(ConfigMapSchema, "shared", { namespace: "default" })).data).toEqual({
        from: "second",
      });
    } finally {
      both.close();
    }
  });

  it("lists what it serves", async () => {
    const resources = await client.discover();
    const pods = resources.find((r) => r.name === "pods");
    expect(pods).toMatchObject({ kind: "Pod", namespaced: true, hasStatus: true });
    expect(pods?.verbs).toContain("watch");
  });

  it("sends bookmarks to watches that ask for them, and ends a watch at its timeout", async () => {
    const list = await client.list(ConfigMapSchema, { namespace: "kube-node-lease" });
    const started = Date.now();
    const stream = client.watch(ConfigMapSchema, {
      namespace: "kube-node-lease",
      resourceVersion: list.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: 2,
    });
    // A write elsewhere moves the store on; the quiet watch learns of it by a bookmark.
    const other = await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, { metadata: { name: "elsewhere", namespace: "default" } }),
    );
    const types: string[] = [];
    let bookmarkRv = "";
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "BOOKMARK") bookmarkRv = ev.object.metadata?.resourceVersion ?? "";
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(["BOOKMARK"]));
    expect(Number(bookmarkRv)).toBeGreaterThanOrEqual(Number(other.metadata?.resourceVersion));
  });

  it("stores events with a TTL lease", async () => {
    const ev = create(EventSchema, {
      metadata: { name: "ev1", namespace: "default" },
      involvedObject: { kind: "Pod", name: "web", namespace: "default" },
      reason: "Scheduled",
      message: "assigned",
      type: "Normal",
    });
    await client.create(EventSchema, ev);
    const etcd = new EtcdClient({ endpoints: h.store.endpoints });
    try {
      const { kv } = await etcd.get("/registry/core/events/default/ev1");
      expect(kv).toBeDefined();
      expect(kv?.lease).not.toBe("0");
    } finally {
      etcd.close();
    }
    const byReason = await client.list(EventSchema, {
      namespace: "default",
      fieldSelector: "reason=Scheduled,involvedObject.name=web",
    });
    expect(byReason.items.map((e) => e.metadata?.name)).toEqual(["ev1"]);
  });

  it("evicts a pod unless its disruption budget allows no disruption", async () => {
    await client.create(
      PodDisruptionBudgetSchema,
      create(PodDisruptionBudgetSchema, {
        metadata: { name: "guard", namespace: "default" },
        spec: { selector: { matchLabels: { guarded: "yes" } } },
      }),
    );
    await client.create(PodSchema, pod("guarded", { guarded: "yes" }));
    await client.bind("default", "guarded", "node-1");
    const running = await client.get(PodSchema, "guarded", { namespace: "default" });
    if (running.status) running.status.phase = "Running";
    await client.updateStatus(PodSchema, running);
    const refused = await failure(client.evict("default", "guarded"));
    expect(refused.reason).toBe("TooManyRequests");
    expect(refused.code).toBe(429);
    expect(refused.message).toBe(
      "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    await client.create(PodSchema, pod("free"));
    await client.evict("default", "free");
    expect((await failure(client.get(PodSchema, "free", { namespace: "default" }))).reason).toBe(
      "NotFound",
    );
  });

  it("deletes a collection by selector", async () => {
    for (const [name, app] of [
      ["dc-1", "drop"],
      ["dc-2", "drop"],
      ["dc-3", "keep"],
    ] as const) {
      await client.create(
        ConfigMapSchema,
        create(ConfigMapSchema, { metadata: { name, namespace: "default", labels: { app } } }),
      );
    }
    const deleted = await client.deleteCollection(ConfigMapSchema, {
      namespace: "default",
      labelSelector: "app=drop",
    });
    expect(deleted.items.map((c) => c.metadata?.name).sort()).toEqual(["dc-1", "dc-2"]);
    const left = await client.list(ConfigMapSchema, {
      namespace: "default",
      labelSelector: "app in (drop,keep)",
    });
    expect(left.items.map((c) => c.metadata?.name)).toEqual(["dc-3"]);
  });

  it("keeps a deleted namespace Terminating and refuses new content in it", async () => {
    await client.create(NamespaceSchema, create(NamespaceSchema, { metadata: { name: "doomed" } }));
    const ns = await client.delete(NamespaceSchema, "doomed");
    expect(ns.status?.phase).toBe("Terminating");
    expect(ns.metadata?.deletionTimestamp).toBeDefined();
    const refused = await failure(client.create(PodSchema, pod("late", {}, "doomed")));
    expect(refused.reason).toBe("Forbidden");
    expect(refused.message).toBe(
      'pods "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    );
    // The namespace controller, once the namespace is empty, finalizes it: then it is gone.
    const terminating = await client.get(NamespaceSchema, "doomed");
    if (terminating.spec) terminating.spec.finalizers = [];
    await client.finalize(NamespaceSchema, terminating);
    expect((await failure(client.get(NamespaceSchema, "doomed"))).reason).toBe("NotFound");
  });

  it("fans one store watch per resource out to every client watch", async () => {
    const { server, client: c } = await h.addServer();
    const before = server.etcd.watchStreamsOpened;
    const list = await c.list(PodSchema, { namespace: "kube-system" });
    const streams = Array.from({ length: 5 }, () =>
      c.watch(PodSchema, { namespace: "kube-system", resourceVersion: list.resourceVersion }),
    );
    const firsts = streams.map(async (stream) => {
      for await (const ev of stream) {
        stream.cancel();
        return `${ev.type} ${ev.object.metadata?.name}`;
      }
      return "ended";
    });
    for (let i = 0; i < 100 && (server.watcherCounts().get("pods") ?? 0) < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.watcherCounts().get("pods")).toBe(5);
    await c.create(PodSchema, pod("fanned", {}, "kube-system"));
    expect(await Promise.all(firsts)).toEqual(Array(5).fill("ADDED fanned"));
    expect(server.etcd.watchStreamsOpened - before).toBe(1);
  });

  it("selects pods by spec.nodeName", async () => {
    await client.create(PodSchema, pod("on-node", {}, "kube-node-lease"));
    await client.create(PodSchema, pod("unbound", {}, "kube-node-lease"));
    await client.bind("kube-node-lease", "on-node", "node-9");
    const bound = await client.list(PodSchema, {
      namespace: "kube-node-lease",
      fieldSelector: "spec.nodeName=node-9",
    });
    expect(bound.items.map((p) => p.metadata?.name)).toEqual(["on-node"]);
    const pending = await client.list(PodSchema, {
      namespace: "kube-node-lease",
      fieldSelector: "spec.nodeName=",
    });
    expect(pending.items.map((p) => p.metadata?.name)).toEqual(["unbound"]);
  });

  it("compacts the store's history every --etcd-compaction-interval", async () => {
    const { client: c } = await h.addServer({ compactionIntervalMs: 300 });
    const first = await c.list(ConfigMapSchema, { namespace: "default", limit: 1 });
    expect(first.continue).not.toBe("");
    // Two rounds: the first records the revision, the second compacts to it.
    await c.create(
      ConfigMapSchema,
      create(ConfigMapSchema, { metadata: { name: "after-page", namespace: "default" } }),
    );
    const deadline = Date.now() + 10_000;
    let expired: ApiError | undefined;
    while (expired === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      expired = await c
        .list(ConfigMapSchema, { namespace: "default", limit: 1, continue: first.continue })
        .then(
          () => undefined,
          (e: ApiError) => e,
        );
    }
    expect(expired?.reason).toBe("Expired");
    expect(expired?.code).toBe(410);
  });

  it("stores nothing on dry-run updates and deletes, and refuses subresources a kind lacks", async () => {
    const cm = await client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        metadata: { name: "dry-cm", namespace: "default" },
        data: { a: "1" },
      }),
    );
    const changed = structuredClone(cm);
    changed.data = { a: "2" };
    const dry = await client.update(ConfigMapSchema, changed, { dryRun: true });
    expect(dry.data).toEqual({ a: "2" });
    await client.delete(ConfigMapSchema, "dry-cm", { namespace: "default", dryRun: true });
    const still = await client.get(ConfigMapSchema, "dry-cm", { namespace: "default" });
    expect(still.data).toEqual({ a: "1" });
    expect(still.metadata?.resourceVersion).toBe(cm.metadata?.resourceVersion);
    const noStatus = await failure(client.updateStatus(ConfigMapSchema, still));
    expect(noStatus.reason).toBe("NotFound");
    expect(noStatus.message).toBe("the server could not find the requested resource");
  });
});
