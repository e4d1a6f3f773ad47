import { create } from "@bufbuild/protobuf";
import { PodStatusSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { newPodInfo } from "../../src/framework/pod-info.js";
import { Snapshot } from "../../src/framework/snapshot.js";
import { makeNode, makePod } from "../support/fixtures.js";

describe("Snapshot", () => {
  it("accounts bound pods' requests and host ports on their node", () => {
    const s = new Snapshot();
    s.setNode(makeNode("n1"));
    s.setPod(makePod("a", { nodeName: "n1", cpu: "500m", memory: "1Gi" }));
    s.setPod(makePod("b", { nodeName: "n1", cpu: "250m", hostPorts: [8080] }));
    const n1 = s.get("n1");
    expect(n1?.requested.milliCpu).toBe(750);
    expect(n1?.requested.memory).toBe(2 ** 30);
    expect(n1?.pods.size).toBe(2);
    expect(n1?.usedPorts.has("TCP/8080")).toBe(true);
    // The numbers the filters and scores read without touching the objects above.
    expect([n1?.allocatableMilliCpu, n1?.requestedMilliCpu, n1?.freeMilliCpu]).toEqual([
      4000, 750, 3250,
    ]);
    expect([n1?.allocatableMemory, n1?.requestedMemory]).toEqual([8 * 2 ** 30, 2 ** 30]);
    expect([n1?.freeMemory, n1?.podRoom]).toEqual([7 * 2 ** 30, 108]);
    s.removePod("default/b");
    expect(n1?.requested.milliCpu).toBe(500);
    expect(n1?.usedPorts.size).toBe(0);
    expect([n1?.requestedMilliCpu, n1?.freeMilliCpu, n1?.podRoom]).toEqual([500, 3500, 109]);
    s.setNode(makeNode("n1", { cpu: "2", pods: "1" }));
    expect([n1?.allocatableMilliCpu, n1?.freeMilliCpu, n1?.podRoom]).toEqual([2000, 1500, 0]);
    s.removeNode("n1");
    expect([n1?.allocatableMilliCpu, n1?.freeMilliCpu, n1?.podRoom]).toEqual([0, -500, -1]);
  });

  it("moves a pod whose update binds it elsewhere, and drops terminal pods", () => {
    const s = new Snapshot();
    s.setNode(makeNode("n1"));
    s.setNode(makeNode("n2"));
    s.setPod(makePod("a", { nodeName: "n1", cpu: "1" }));
    s.setPod(makePod("a", { nodeName: "n2", cpu: "1" }));
    expect(s.get("n1")?.requested.milliCpu).toBe(0);
    expect(s.get("n2")?.requested.milliCpu).toBe(1000);
    const done = makePod("a", { nodeName: "n2", cpu: "1" });
    done.status = create(PodStatusSchema, { phase: "Succeeded" });
    s.setPod(done);
    expect(s.get("n2")?.requested.milliCpu).toBe(0);
    expect(s.numPods()).toBe(0);
  });

  it("counts an assumed pod until it is forgotten, and a confirmed one after", () => {
    const s = new Snapshot();
    s.setNode(makeNode("n1"));
    const info = newPodInfo(makePod("a", { cpu: "1" }));
    s.assumePod(info, "n1");
    expect(s.isAssumed("default/a")).toBe(true);
    expect(s.numAssumedPods()).toBe(1);
    expect(s.get("n1")?.requested.milliCpu).toBe(1000);
    expect(() => s.assumePod(info, "n1")).toThrow(/already in the scheduler cache/);
    // An unbound update arriving before the bound one keeps the assumption.
    s.setPod(makePod("a", { cpu: "1" }));
    expect(s.isAssumed("default/a")).toBe(true);
    s.forgetPod("default/a");
    expect(s.get("n1")?.requested.milliCpu).toBe(0);

    s.assumePod(info, "n1");
    s.setPod(makePod("a", { cpu: "1", nodeName: "n1" }));
    expect(s.isAssumed("default/a")).toBe(false);
    expect(s.numAssumedPods()).toBe(0);
    expect(s.numPods()).toBe(1);
    s.forgetPod("default/a");
    expect(s.get("n1")?.requested.milliCpu).toBe(1000);
  });

  it("keeps pods of a deleted node out of the candidates until they go", () => {
    const s = new Snapshot();
    s.setNode(makeNode("n1"));
    s.setPod(makePod("a", { nodeName: "n1" }));
    s.removeNode("n1");
    expect(s.numNodes()).toBe(0);
    expect(s.get("n1")?.pods.size).toBe(1);
    s.removePod("default/a");
    expect(s.get("n1")).toBeUndefined();
    // A pod bound to a node not seen yet waits for it.
    s.setPod(makePod("b", { nodeName: "n9", cpu: "1" }));
    expect(s.numNodes()).toBe(0);
    s.setNode(makeNode("n9"));
    expect(s.nodeInfos().map((n) => n.name)).toEqual(["n9"]);
    expect(s.get("n9")?.requested.milliCpu).toBe(1000);
  });

  it("counts pods per controller owner per node", () => {
    const s = new Snapshot();
    s.setNode(makeNode("n1"));
    s.setPod(makePod("a", { nodeName: "n1", ownerUid: "rs1" }));
    s.setPod(makePod("b", { nodeName: "n1", ownerUid: "rs1" }));
    expect(s.ownerPodsOn("rs1", "n1")).toBe(2);
    s.removePod("default/a");
    expect(s.ownerPodsOn("rs1", "n1")).toBe(1);
  });
  it("finds the placed anti-affinity terms that may select a pod: pinned by its labels, and the unpinned", () => {
    const s = new Snapshot();
    s.setNode(makeNode("n1", { labels: { zone: "a" } }));
    s.setNode(makeNode("n2", { labels: { zone: "b" } }));
    const antiTo = (matchExpressions: object[]) => ({
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchExpressions }, topologyKey: "zone" },
          ],
        },
      },
    });
    // Pinned: app=web (In with one value); unpinned: tier Exists.
    s.setPod(
      makePod("w", {
        nodeName: "n1",
        spec: antiTo([{ key: "app", operator: "In", values: ["web"] }]),
      }),
    );
    s.setPod(makePod("x", { nodeName: "n2", spec: antiTo([{ key: "tier", operator: "Exists" }]) }));
    // Assumed, not yet bound: counted as well.
    s.assumePod(
      newPodInfo(
        makePod("d", { spec: antiTo([{ key: "app", operator: "In", values: ["db", "cache"] }]) }),
      ),
      "n2",
    );
    const found = (labels: Record<string, string>) => {
      const seen: string[] = [];
      s.forEachAntiAffinityTermSelecting(newPodInfo(makePod("new", { labels })), (node, term) =>
        seen.push(`${node.name} ${term.selector.requirements.map((r) => r.key).join(",")}`),
      );
      return seen.sort();
    };
    expect(found({ app: "web" })).toEqual(["n1 app", "n2 app", "n2 tier"]);
    expect(found({ app: "api" })).toEqual(["n2 app", "n2 tier"]);
    s.removePod("default/d");
    expect(found({ app: "api" })).toEqual(["n2 tier"]);
    // Moved by a later bound version: found on its new node only.
    s.setPod(
      makePod("w", {
        nodeName: "n2",
        spec: antiTo([{ key: "app", operator: "In", values: ["web"] }]),
      }),
    );
    expect(found({ app: "web" })).toEqual(["n2 app", "n2 tier"]);
    // A pod on a node whose Node object is gone has no topology: left out.
    s.removeNode("n2");
    expect(found({ app: "web" })).toEqual([]);
    s.removePod("default/w");
    s.removePod("default/x");
    expect(found({ app: "web" })).toEqual([]);
  });
});
