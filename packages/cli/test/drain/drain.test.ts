import type { JsonObject } from "@tug/api";
import { describe, expect, it } from "vitest";
import { CommandContext } from "../../src/command-context.js";
import { runDrain } from "../../src/commands/drain.js";
import {
  DAEMONSET_FATAL,
  LOCAL_STORAGE_FATAL,
  planDrain,
  UNMANAGED_FATAL,
} from "../../src/drain/pod-filters.js";
import { runTug } from "../../src/program.js";
import { FakeClient } from "../support/fake-client.js";
import { fakeIo } from "../support/fake-io.js";

async function tug(client: FakeClient, args: string[]) {
  const io = fakeIo({ client });
  const code = await runTug(args, io);
  return { code, out: io.out(), err: io.err() };
}

function node(name: string, unschedulable = false): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { zone: "a" } },
    spec: unschedulable ? { unschedulable: true } : {},
  };
}

function pod(
  name: string,
  options: { owner?: string; emptyDir?: boolean; nodeName?: string; phase?: string } = {},
): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      ...(options.owner === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: options.owner,
                name: "owner",
                uid: "owner-uid",
                controller: true,
              },
            ],
          }),
    },
    spec: {
      nodeName: options.nodeName ?? "n1",
      containers: [{ name: "app", image: "tug/busybox" }],
      ...(options.emptyDir === true ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    },
    status: { phase: options.phase ?? "Running" },
  };
}

describe("tug cordon and uncordon", () => {
  it("sets and clears spec.unschedulable with kubectl's texts", async () => {
    const client = new FakeClient();
    client.seed(node("n1"));
    client.seed(node("n2"));
    expect(await tug(client, ["cordon", "n1"])).toEqual({
      code: 0,
      out: "node/n1 cordoned\n",
      err: "",
    });
    expect(JSON.stringify(client.objects.get("/nodes//n1"))).toContain('"unschedulable":true');
    expect((await tug(client, ["cordon", "node/n1"])).out).toBe("node/n1 already cordoned\n");
    expect((await tug(client, ["uncordon", "-l", "zone=a"])).out).toBe(
      "node/n1 uncordoned\nnode/n2 already uncordoned\n",
    );
    expect(JSON.stringify(client.objects.get("/nodes//n1"))).not.toContain("unschedulable");
  });

  it("names a missing node as the server does, and needs a name or selector", async () => {
    const missing = await tug(new FakeClient(), ["cordon", "nope"]);
    expect(missing).toMatchObject({
      code: 1,
      err: 'Error from server (NotFound): nodes "nope" not found\n',
    });
    expect((await tug(new FakeClient(), ["cordon"])).err).toContain(
      "name the node to cordon, or use -l SELECTOR",
    );
  });
});

describe("planDrain (kubectl's filters)", () => {
  const none = { force: false, ignoreDaemonsets: false, deleteEmptydirData: false };
  it("refuses unmanaged, DaemonSet and emptyDir pods without their flags", () => {
    const pods = [
      pod("bare"),
      pod("agent", { owner: "DaemonSet" }),
      pod("cache", { owner: "ReplicaSet", emptyDir: true }),
      pod("web", { owner: "ReplicaSet" }),
      pod("done", { phase: "Succeeded" }),
    ];
    const plan = planDrain(pods, none);
    expect([...plan.errors.entries()]).toEqual([
      [UNMANAGED_FATAL, ["default/bare"]],
      [DAEMONSET_FATAL, ["default/agent"]],
      [LOCAL_STORAGE_FATAL, ["default/cache"]],
    ]);
    expect(plan.evict.map((p) => (p.metadata as JsonObject).name)).toEqual(["web", "done"]);
    const forced = planDrain(pods, {
      force: true,
      ignoreDaemonsets: true,
      deleteEmptydirData: true,
    });
    expect(forced.errors.size).toBe(0);
    expect(forced.evict.map((p) => (p.metadata as JsonObject).name)).toEqual([
      "bare",
      "cache",
      "web",
      "done",
    ]);
    expect([...forced.warnings.keys()]).toEqual([
      "deleting Pods that declare no controller",
      "ignoring DaemonSet-managed Pods",
      "deleting Pods with local storage",
    ]);
  });

  it("leaves mirror pods and terminating pods alone", () => {
    const mirror = pod("static");
    (mirror.metadata as JsonObject).annotations = { "kubernetes.io/config.mirror": "abc" };
    const leaving = pod("leaving", { owner: "ReplicaSet" });
    (leaving.metadata as JsonObject).deletionTimestamp = "2024-05-01T12:00:00Z";
    const plan = planDrain([mirror, leaving], none);
    expect(plan).toEqual({ evict: [], warnings: new Map(), errors: new Map() });
  });
});

describe("tug drain", () => {
  it("cordons, evicts the node's pods through the Eviction API, and reports drained", async () => {
    const client = new FakeClient();
    client.seed(node("n1"));
    client.seed(pod("web-1", { owner: "ReplicaSet" }));
    client.seed(pod("web-2", { owner: "ReplicaSet" }));
    client.seed(pod("elsewhere", { owner: "ReplicaSet", nodeName: "n2" }));
    client.seed(pod("agent", { owner: "DaemonSet" }));
    const r = await tug(client, ["drain", "n1", "--ignore-daemonsets"]);
    expect(r).toEqual({
      code: 0,
      out: [
        "node/n1 cordoned",
        "evicting pod default/web-1",
        "evicting pod default/web-2",
        "pod/web-1 evicted",
        "pod/web-2 evicted",
        "node/n1 drained",
        "",
      ].join("\n"),
      err: "Warning: ignoring DaemonSet-managed Pods: default/agent\n",
    });
    expect(client.calls.filter((c) => c.startsWith("evict"))).toEqual([
      "evict pods default/web-1",
      "evict pods default/web-2",
    ]);
    expect([...client.objects.keys()].filter((k) => k.startsWith("/pods/"))).toEqual([
      "/pods/default/elsewhere",
      "/pods/default/agent",
    ]);
  });

  it("stops before any eviction when a pod needs a flag, with kubectl's messages", async () => {
    const client = new FakeClient();
    client.seed(node("n1"));
    client.seed(pod("bare"));
    client.seed(pod("web", { owner: "ReplicaSet" }));
    const r = await tug(client, ["drain", "n1"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("node/n1 cordoned\n");
    expect(r.err).toBe(
      [
        `error: unable to drain node "n1" due to error: ${UNMANAGED_FATAL}: default/bare, continuing command...`,
        "There are pending nodes to be drained:",
        " n1",
        `error: ${UNMANAGED_FATAL}: default/bare`,
        "",
      ].join("\n"),
    );
    expect(client.calls.some((c) => c.startsWith("evict"))).toBe(false);
    expect((await tug(client, ["drain", "n1", "--force"])).out).toBe(
      "node/n1 already cordoned\nevicting pod default/bare\nevicting pod default/web\npod/bare evicted\npod/web evicted\nnode/n1 drained\n",
    );
  });

  it("retries an eviction a disruption budget refuses (429) until it is allowed", async () => {
    const client = new FakeClient();
    client.seed(node("n1"));
    client.seed(pod("web", { owner: "ReplicaSet" }));
    client.evictionRefusals.set("default/web", 2);
    const io = fakeIo({ client });
    const code = await runDrain(new CommandContext(io, {}), ["n1"], { retryIntervalMs: 1 });
    expect(code).toBe(0);
    const refusal =
      'error when evicting pods/"web" -n "default" (will retry after 0.001s): Cannot evict pod as it would violate the pod\'s disruption budget.\n';
    expect(io.err()).toBe(refusal + refusal);
    expect(io.out()).toContain("pod/web evicted\nnode/n1 drained\n");
  });

  it("gives up at --timeout while the budget still refuses", async () => {
    const client = new FakeClient();
    client.seed(node("n1"));
    client.seed(pod("web", { owner: "ReplicaSet" }));
    client.evictionRefusals.set("default/web", 1_000_000);
    const io = fakeIo({ client });
    const code = await runDrain(new CommandContext(io, {}), ["n1"], {
      retryIntervalMs: 5,
      timeout: "50ms",
    });
    expect(code).toBe(1);
    expect(io.err()).toContain(
      'error: unable to drain node "n1" due to error: error when evicting pods/"web" -n "default": global timeout reached: 50ms, continuing command...\nThere are pending nodes to be drained:\n n1\n',
    );
    expect(io.out()).not.toContain("drained");
  });

  it("waits for a gracefully deleted pod to be gone", async () => {
    const client = new FakeClient();
    client.gracefulDeletes = true;
    client.seed(node("n1"));
    client.seed(pod("web", { owner: "ReplicaSet" }));
    const io = fakeIo({ client });
    expect(await runDrain(new CommandContext(io, {}), ["n1"], { pollIntervalMs: 1 })).toBe(0);
    expect(client.calls.filter((c) => c.startsWith("get pods"))).toEqual([
      "get pods default/web",
      "get pods default/web",
    ]);
    expect(io.out()).toContain("pod/web evicted\nnode/n1 drained\n");
  });
});
