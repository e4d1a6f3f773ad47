// A client-go style informer running against a real tug-apiserver through apiListerWatcher:
// it lists, watches, and keeps its cache equal to the server's collection.

import { create } from "@bufbuild/protobuf";
import { type ConfigMap, ConfigMapSchema } from "@tug/api";
import { apiListerWatcher, SharedIndexInformer } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startTugStore } from "../support/stores.js";
import { type Harness, startHarness } from "./harness.js";

/** How long the cache may take to see a change made through the API. */
const PROPAGATION_TIMEOUT_MS = 10_000;

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + PROPAGATION_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("an informer against tug-apiserver", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(startTugStore);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("syncs, then follows creates, updates and deletes in its namespace and selector", async () => {
    const cm = (name: string, labels: Record<string, string>, namespace = "default") =>
      create(ConfigMapSchema, { metadata: { name, namespace, labels }, data: { v: "1" } });
    await h.client.create(ConfigMapSchema, cm("before", { app: "x" }));
    await h.client.create(ConfigMapSchema, cm("other-app", { app: "y" }));
    const informer = new SharedIndexInformer<ConfigMap>({
      name: "configmaps",
      listerWatcher: apiListerWatcher(h.client, ConfigMapSchema, {
        namespace: "default",
        labelSelector: "app=x",
      }),
    });
    const events: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => events.push(`add ${o.metadata?.name}`),
      onUpdate: (_, n) => events.push(`update ${n.metadata?.name} ${n.data.v}`),
      onDelete: (o) => events.push(`delete ${"obj" in o ? o.key : o.metadata?.name}`),
    });
    const running = informer.run();
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      const names = () =>
        informer
          .getIndexer()
          .list()
          .map((o) => o.metadata?.name)
          .sort();
      expect(names()).toEqual(["before"]);
      await h.client.create(ConfigMapSchema, cm("after", { app: "x" }));
      await h.client.create(ConfigMapSchema, cm("elsewhere", { app: "x" }, "kube-system"));
      await h.client.patch(ConfigMapSchema, "before", {
        namespace: "default",
        type: "merge",
        patch: { data: { v: "2" } },
      });
      await h.client.delete(ConfigMapSchema, "after", { namespace: "default" });
      await eventually(
        () => events.includes("delete after") && events.includes("update before 2"),
        "the informer to see the changes",
      );
      expect(names()).toEqual(["before"]);
      expect(events).toEqual(["add before", "add after", "update before 2", "delete after"]);
    } finally {
      await informer.stop();
      await running;
    }
  });
});
