import { describe, expect, it } from "vitest";
import { Network } from "./support/network.js";

describe("test network", () => {
  it("elects, replicates, survives a restart", () => {
    const net = Network.of([1, 2, 3]);
    net.campaign(1);
    expect(net.leader()).toBe(1);
    net.propose(1, "a");
    net.propose(2, "b");
    for (const id of net.ids()) expect(net.node(id).applied).toEqual(["a", "b"]);
    net.restart(3);
    net.propose(1, "c");
    expect(net.node(3).applied).toEqual(["a", "b", "c"]);
  });
});
