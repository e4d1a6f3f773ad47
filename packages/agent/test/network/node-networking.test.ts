// NodeNetworking (what Agent.start runs) against a real tug-apiserver with a fake host: the
// proxy's preparation (route_localnet, the localnet guard) is retried after a failure rather
// than given up, the proxy then programs the host, and stop(true) removes the guard and the
// proxy's chains.

import type { ApiClient } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.js";
import type { HostCommand } from "../../src/network/host-command.js";
import { NodeNetworking, START_RETRY_MS } from "../../src/network/node-networking.js";
import { startControlPlane } from "../control-plane.js";

let closeAll: () => Promise<void> = async () => {};
let client: ApiClient;

beforeAll(async () => {
  const plane = await startControlPlane("node-networking-test");
  client = plane.client;
  closeAll = plane.close;
}, 60_000);

afterAll(async () => {
  await closeAll();
});

describe("NodeNetworking", () => {
  it("retries a failed proxy preparation, then programs Services; stop(true) cleans up", async () => {
    const calls: string[] = [];
    const restores: string[] = [];
    let sysctlFailures = 1;
    const run: HostCommand = async (argv, stdin) => {
      const line = argv.join(" ");
      calls.push(line);
      if (argv[0] === "sysctl" && sysctlFailures-- > 0)
        throw new Error("sysctl: permission denied");
      if (argv[1] === "-V") return "iptables v1.8.9 (nf_tables)\n";
      if (argv[0]?.endsWith("-restore")) restores.push(stdin ?? "");
      if (argv.includes("-C")) throw new Error("rule not found");
      // Each jump exists once: a repeated delete finds nothing (cleanup deletes until then).
      if (argv.includes("-D") && calls.indexOf(line) !== calls.length - 1)
        throw new Error("Bad rule (does a matching rule exist in that chain?)");
      return "";
    };
    const networking = new NodeNetworking({
      client,
      nodeName: "n1",
      clusterCidr: "10.244.0.0/16",
      mode: "none",
      proxy: true,
      dns: true, // no bridge in mode none: no DNS server either
      dnsClusterIp: "10.96.0.10",
      run,
      log: silentLogger,
    });
    const started = Date.now();
    networking.start();
    await networking.started();
    expect(networking.ready).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(START_RETRY_MS - 100);
    expect(calls.filter((c) => c === "sysctl -w net.ipv4.conf.all.route_localnet=1")).toHaveLength(
      2,
    );
    expect(restores.some((r) => r.includes("block incoming localnet connections"))).toBe(true);
    // The proxy's first sync: the kubernetes Service the API server made, no node-local DNS.
    const deadline = Date.now() + 20_000;
    while (!restores.some((r) => r.includes(":TUG-SERVICES")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(restores.some((r) => r.includes(":TUG-SERVICES"))).toBe(true);
    expect(restores.join("\n")).not.toContain("tug-node-dns");

    await networking.stop(true);
    expect(calls).toContain("iptables-nft -t filter -D INPUT -j TUG-FIREWALL");
    expect(calls).toContain(
      "iptables-nft -t nat -D PREROUTING -m comment --comment tug service portals -j TUG-SERVICES",
    );
  }, 60_000);
});
