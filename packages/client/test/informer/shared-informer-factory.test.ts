import { afterEach, describe, expect, it } from "vitest";
import { fieldIndexFunc, labelIndexFunc } from "../../src/cache/index-funcs.js";
import { SharedInformerFactory } from "../../src/informer/index.js";
import { FakeClock, settle } from "./support/fake-clock.js";
import { FakeSource } from "./support/fake-source.js";
import { pod, type TestPod } from "./support/objects.js";

const factories: SharedInformerFactory[] = [];
afterEach(async () => {
  await Promise.all(factories.splice(0).map((f) => f.shutdown()));
});

function newFactory() {
  const factory = new SharedInformerFactory({ clock: new FakeClock(), random: () => 0 });
  factories.push(factory);
  return factory;
}

const byNode = fieldIndexFunc((p: TestPod) => p.spec.nodeName);

describe("SharedInformerFactory", () => {
  it("gives every controller asking for one key the same informer, listing once", async () => {
    const pods = new FakeSource();
    pods.upsert(pod("default", "a", { nodeName: "n1", labels: { app: "web" } }));
    let created = 0;
    const spec = {
      key: "v1/pods",
      newListerWatcher: () => {
        created++;
        return pods;
      },
    };
    const factory = newFactory();
    const first = factory.informerFor<TestPod>({ ...spec, indexers: { byNode } });
    const second = factory.informerFor<TestPod>({
      ...spec,
      indexers: { app: labelIndexFunc("app") },
    });
    expect(second).toBe(first);
    expect(created).toBe(1);
    expect(Object.keys(first.getIndexer().getIndexers()).sort()).toEqual(["app", "byNode"]);
    factory.start();
    factory.start();
    expect(await factory.waitForCacheSync()).toEqual(new Map([["v1/pods", true]]));
    expect(pods.listCalls).toHaveLength(1);
    expect(first.getIndexer().indexKeys("app", "web")).toEqual(["default/a"]);
  });

  it("refuses one index name bound to two functions", () => {
    const factory = newFactory();
    const spec = { key: "v1/pods", newListerWatcher: () => new FakeSource() };
    factory.informerFor<TestPod>({ ...spec, indexers: { byNode } });
    expect(() =>
      factory.informerFor<TestPod>({ ...spec, indexers: { byNode: fieldIndexFunc(() => "x") } }),
    ).toThrow('informer v1/pods: index "byNode" is already registered with another function');
  });

  it("starts informers asked for after start on the next start, and stops all on shutdown", async () => {
    const factory = newFactory();
    const pods = new FakeSource();
    const nodes = new FakeSource();
    factory.informerFor<TestPod>({ key: "v1/pods", newListerWatcher: () => pods });
    factory.start();
    const nodeInformer = factory.informerFor<TestPod>({
      key: "v1/nodes",
      newListerWatcher: () => nodes,
    });
    expect(nodeInformer.isRunning()).toBe(false);
    expect([...(await factory.waitForCacheSync()).keys()]).toEqual(["v1/pods"]);
    factory.start();
    expect([...(await factory.waitForCacheSync()).values()]).toEqual([true, true]);
    await settle();
    expect(pods.openWatches() + nodes.openWatches()).toBe(2);
    await factory.shutdown();
    expect(pods.openWatches() + nodes.openWatches()).toBe(0);
    expect(() => factory.start()).toThrow(/shut down/);
  });
});
