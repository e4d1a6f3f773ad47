import { labels } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  createIndexer,
  createLister,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
} from "../../src/cache/index.js";
import { pod, type TestPod } from "../informer/support/objects.js";

function fill(withNamespaceIndex: boolean) {
  const indexer = createIndexer<TestPod>(
    withNamespaceIndex ? { indexers: { [NAMESPACE_INDEX]: metaNamespaceIndexFunc } } : {},
  );
  indexer.add(pod("default", "web-1", { labels: { app: "web" } }));
  indexer.add(pod("default", "db-1", { labels: { app: "db" } }));
  indexer.add(pod("prod", "web-1", { labels: { app: "web", tier: "front" } }));
  indexer.add(pod("", "node-1"));
  return createLister(indexer);
}

const names = (objs: TestPod[]) =>
  objs.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

describe("createLister", () => {
  for (const indexed of [true, false]) {
    it(`answers by namespace and label selector (namespace index: ${indexed})`, () => {
      const lister = fill(indexed);
      expect(names(lister.list(labels.Selector.parse("app=web")))).toEqual([
        "default/web-1",
        "prod/web-1",
      ]);
      expect(names(lister.namespace("default").list())).toEqual(["default/db-1", "default/web-1"]);
      expect(
        names(lister.namespace("prod").list(labels.Selector.parse("tier in (front)"))),
      ).toEqual(["prod/web-1"]);
      expect(lister.namespace("prod").get("web-1")?.metadata?.labels.tier).toBe("front");
      expect(lister.namespace("prod").get("db-1")).toBeUndefined();
      expect(lister.get("node-1")?.metadata?.name).toBe("node-1");
      expect(lister.list()).toHaveLength(4);
    });
  }
});
