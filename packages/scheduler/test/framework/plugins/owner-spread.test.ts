import { describe, expect, it } from "vitest";
import { ownerSpread } from "../../../src/framework/plugins/owner-spread.js";
import { makeNode, makePod, scoresOf, snapshotOf } from "../../support/fixtures.js";

const ZONE = "topology.kubernetes.io/zone";

describe("OwnerSpread", () => {
  it("scores nodes by how few pods of the same owner they hold", () => {
    const s = snapshotOf(
      [makeNode("n1"), makeNode("n2"), makeNode("n3")],
      [
        makePod("a", { nodeName: "n1", ownerUid: "rs" }),
        makePod("b", { nodeName: "n1", ownerUid: "rs" }),
        makePod("c", { nodeName: "n2", ownerUid: "rs" }),
        makePod("x", { nodeName: "n3", ownerUid: "other" }),
      ],
    );
    expect(scoresOf(ownerSpread, makePod("p", { ownerUid: "rs" }), s)).toEqual({
      n1: 0,
      n2: 50,
      n3: 100,
    });
  });

  it("weighs zones 2/3 when nodes carry them", () => {
    const s = snapshotOf(
      [
        makeNode("a1", { labels: { [ZONE]: "a" } }),
        makeNode("a2", { labels: { [ZONE]: "a" } }),
        makeNode("b1", { labels: { [ZONE]: "b" } }),
      ],
      [makePod("x", { nodeName: "a1", ownerUid: "rs" })],
    );
    // a2: node 100, zone 0 -> 33; b1: 100; a1: 0.
    expect(scoresOf(ownerSpread, makePod("p", { ownerUid: "rs" }), s)).toEqual({
      a1: 0,
      a2: 33,
      b1: 100,
    });
  });

  it("has no opinion on a pod without a controller", () => {
    const s = snapshotOf([makeNode("n1")], [makePod("a", { nodeName: "n1", ownerUid: "rs" })]);
    expect(scoresOf(ownerSpread, makePod("p"), s)).toEqual({ n1: 0 });
  });
});
