import { describe, expect, it } from "vitest";
import {
  createIndexer,
  fieldIndexFunc,
  labelIndexFunc,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
} from "../../src/cache/index.js";
import { pod, type TestPod } from "../informer/support/objects.js";

function podIndexer() {
  return createIndexer<TestPod>({
    indexers: {
      [NAMESPACE_INDEX]: metaNamespaceIndexFunc,
      byNode: fieldIndexFunc((p: TestPod) => p.spec.nodeName),
    },
  });
}

describe("indexer", () => {
  it("keys namespaced objects as namespace/name and cluster-scoped ones as name", () => {
    const store = createIndexer<TestPod>();
    store.add(pod("default", "a"));
    store.add(pod("", "node-1"));
    expect(store.listKeys().sort()).toEqual(["default/a", "node-1"]);
    expect(store.getByKey("default/a")?.metadata?.name).toBe("a");
    expect(store.get(pod("", "node-1"))?.metadata?.namespace).toBe("");
  });

  it("update replaces the stored object and delete removes it", () => {
    const store = createIndexer<TestPod>();
    store.add(pod("default", "a", { rv: "1" }));
    store.update(pod("default", "a", { rv: "2" }));
    expect(store.list().map((p) => p.metadata?.resourceVersion)).toEqual(["2"]);
    store.delete(pod("default", "a"));
    expect(store.list()).toEqual([]);
    store.delete(pod("default", "a"));
    expect(store.listKeys()).toEqual([]);
  });

  it("byIndex follows objects as they move between index values", () => {
    const store = podIndexer();
    store.add(pod("default", "a", { nodeName: "n1" }));
    store.add(pod("kube-system", "b", { nodeName: "n1" }));
    store.add(pod("default", "c"));
    expect(names(store.byIndex("byNode", "n1"))).toEqual(["a", "b"]);
    expect(names(store.byIndex(NAMESPACE_INDEX, "default"))).toEqual(["a", "c"]);

    store.update(pod("default", "a", { nodeName: "n2" }));
    expect(names(store.byIndex("byNode", "n1"))).toEqual(["b"]);
    expect(names(store.byIndex("byNode", "n2"))).toEqual(["a"]);
    expect(store.indexKeys("byNode", "n2")).toEqual(["default/a"]);
    expect(names(store.index("byNode", pod("x", "y", { nodeName: "n2" })))).toEqual(["a"]);

    store.delete(pod("kube-system", "b"));
    expect(store.byIndex("byNode", "n1")).toEqual([]);
    // An emptied index value is no longer listed; a pod without a node is filed nowhere.
    expect(store.listIndexFuncValues("byNode")).toEqual(["n2"]);
  });

  it("replace rebuilds the indexes from the new items only", () => {
    const store = podIndexer();
    store.add(pod("default", "a", { nodeName: "n1" }));
    store.replace([pod("default", "b", { nodeName: "n2" })], "10");
    expect(store.listKeys()).toEqual(["default/b"]);
    expect(store.byIndex("byNode", "n1")).toEqual([]);
    expect(names(store.byIndex("byNode", "n2"))).toEqual(["b"]);
  });

  it("addIndexers indexes objects already present and refuses a duplicate name", () => {
    const store = createIndexer<TestPod>();
    store.add(pod("default", "a", { labels: { app: "web" } }));
    store.add(pod("default", "b", { labels: { tier: "db" } }));
    store.addIndexers({ app: labelIndexFunc("app") });
    expect(names(store.byIndex("app", "web"))).toEqual(["a"]);
    expect(Object.keys(store.getIndexers())).toEqual(["app"]);
    expect(() => store.addIndexers({ app: labelIndexFunc("x") })).toThrow(/already registered/);
  });

  it("names the registered indexes when asked for an unknown one", () => {
    const store = podIndexer();
    expect(() => store.byIndex("byZone", "z")).toThrow(
      'index "byZone" does not exist (registered: namespace, byNode)',
    );
  });

  it("freezes stored objects so a handler cannot mutate the shared copy", () => {
    const store = createIndexer<TestPod>();
    store.add(pod("default", "a", { labels: { app: "web" } }));
    const cached = store.getByKey("default/a");
    expect(() => {
      (cached!.metadata!.labels as Record<string, string>).app = "db";
    }).toThrow(TypeError);
    expect(store.getByKey("default/a")?.metadata?.labels.app).toBe("web");
  });

  it("leaves objects writable when freezeObjects is false", () => {
    const store = createIndexer({ freezeObjects: false });
    const p = pod("default", "a");
    store.add(p);
    expect(Object.isFrozen(store.getByKey("default/a"))).toBe(false);
  });

  it("refuses an object it cannot key, naming the field", () => {
    const store = createIndexer<TestPod>();
    expect(() => store.add({} as TestPod)).toThrow(/no metadata/);
    expect(() => store.add(pod("default", ""))).toThrow(/metadata.name is empty/);
  });
});

function names(objs: readonly { metadata?: { name: string } | undefined }[]): string[] {
  return objs.map((o) => o.metadata?.name ?? "").sort();
}
