import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@tug/api";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_DOCKER_SOCKET,
  ensureDockerNetwork,
  removeDockerNetwork,
} from "../../src/network/docker-network.js";
import {
  bridgeName,
  cidrContains,
  dockerNetworkConfig,
  gatewayIp,
  NodeNetwork,
  networkRuleset,
  parseIpv4Cidr,
  parseLocalAddresses,
  peersFromNodes,
} from "../../src/network/node-network.js";

const node = (name: string, podCidr: string, ip: string) =>
  create(NodeSchema, {
    metadata: { name },
    spec: { podCidr },
    status: {
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: name },
      ],
    },
  });

describe("node network plan", () => {
  it("gateway is the CIDR's first host; CIDRs are validated with the field named", () => {
    expect(gatewayIp("10.244.3.0/24")).toBe("10.244.3.1");
    expect(gatewayIp("10.244.3.77/24")).toBe("10.244.3.1");
    expect(() => parseIpv4Cidr("10.244.3.0", "node.spec.podCIDR")).toThrow(
      /node.spec.podCIDR: "10.244.3.0" is not an IPv4 CIDR; use a.b.c.d\/n/,
    );
    expect(cidrContains("10.244.0.0/16", "10.244.9.9")).toBe(true);
    expect(cidrContains("10.244.0.0/16", "10.245.0.1")).toBe(false);
  });

  it("peers are the other nodes with a podCIDR and an InternalIP, sorted", () => {
    const nodes = [
      node("c", "10.244.3.0/24", "192.168.0.3"),
      node("a", "10.244.1.0/24", "192.168.0.1"),
      node("b", "", "192.168.0.2"),
      node("self", "10.244.0.0/24", "192.168.0.9"),
    ];
    expect(peersFromNodes(nodes, "self")).toEqual([
      { name: "a", podCidr: "10.244.1.0/24", nodeIp: "192.168.0.1" },
      { name: "c", podCidr: "10.244.3.0/24", nodeIp: "192.168.0.3" },
    ]);
  });

  it("the Docker network is tug-<node> on the podCIDR with gateway .1 and no Docker masquerade", () => {
    const spec = {
      nodeName: "n1",
      podCidr: "10.244.1.0/24",
      clusterCidr: "10.244.0.0/16",
      peers: [],
    };
    expect(dockerNetworkConfig(spec)).toEqual({
      Name: "tug-n1",
      Driver: "bridge",
      IPAM: { Config: [{ Subnet: "10.244.1.0/24", Gateway: "10.244.1.1" }] },
      Options: {
        "com.docker.network.bridge.name": bridgeName("n1"),
        "com.docker.network.bridge.enable_ip_masquerade": "false",
      },
      Labels: { "io.tug.node": "n1" },
    });
    expect(bridgeName("n1")).toMatch(/^tug[0-9a-f]{12}$/);
    const rules = networkRuleset(spec);
    expect(rules).toContain(
      '-A TUG-FORWARD -m comment --comment "tug pod traffic" -s 10.244.0.0/16 -j ACCEPT',
    );
    expect(rules).toContain("-s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE");
  });
});

describe("node network on a shared host", () => {
  /** A host whose only tug state is what `apply` did; `docker` says whether DOCKER-USER exists. */
  function fakeHost(docker: boolean) {
    const calls: string[] = [];
    const run = async (argv: readonly string[]) => {
      const line = argv.join(" ");
      calls.push(line);
      if (line === "ip -4 -o addr show")
        return "1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\n";
      if (line === "iptables -V") return "iptables v1.8.9 (nf_tables)\n";
      if (line.endsWith("-S DOCKER-USER") && !docker) throw new Error("No chain/target/match");
      if (line.includes(" -C ")) throw new Error("Bad rule");
      return "";
    };
    return { calls, run };
  }

  it("routes only to peers at other addresses and jumps from DOCKER-USER when Docker runs", async () => {
    const host = fakeHost(true);
    await new NodeNetwork(host.run).apply({
      nodeName: "n1",
      podCidr: "10.244.0.0/24",
      clusterCidr: "10.244.0.0/16",
      peers: [
        { name: "n2", podCidr: "10.244.1.0/24", nodeIp: "192.0.2.2" },
        { name: "n3", podCidr: "10.244.2.0/24", nodeIp: "192.0.2.3" },
      ],
    });
    expect(host.calls.filter((c) => c.startsWith("ip route replace"))).toEqual([
      "ip route replace 10.244.2.0/24 via 192.0.2.3 proto 77",
    ]);
    expect(host.calls).toContain("iptables-nft -t filter -I DOCKER-USER 1 -j TUG-FORWARD");
    expect(host.calls.some((c) => c.includes("-I FORWARD"))).toBe(false);

    const bare = fakeHost(false);
    await new NodeNetwork(bare.run).apply({
      nodeName: "n1",
      podCidr: "10.244.0.0/24",
      clusterCidr: "10.244.0.0/16",
      peers: [],
    });
    expect(bare.calls).toContain("iptables-nft -t filter -I FORWARD 1 -j TUG-FORWARD");
  });

  it("reads this namespace's IPv4 addresses from ip -o addr", () => {
    expect([
      ...parseLocalAddresses(
        "1: lo    inet 127.0.0.1/8 scope host lo\n5: tug29ffb6acbdf9    inet 10.244.0.1/24 brd 10.244.0.255 scope global tug29ffb6acbdf9\n",
      ),
    ]).toEqual(["127.0.0.1", "10.244.0.1"]);
  });
});

describe("Docker pod network (real engine)", () => {
  const name = `tug-test-${process.pid}`;
  const spec = {
    nodeName: `test-${process.pid}`,
    podCidr: "10.251.7.0/24",
    clusterCidr: "10.251.0.0/16",
    peers: [],
  };
  afterAll(async () => {
    await removeDockerNetwork(name);
  });

  it("creates, adopts, refuses a different subnet and removes", async () => {
    const config = dockerNetworkConfig(spec);
    expect(config.Name).toBe(name);
    await ensureDockerNetwork(config, DEFAULT_DOCKER_SOCKET);
    await ensureDockerNetwork(config); // adopted, not duplicated
    await expect(
      ensureDockerNetwork({
        ...config,
        IPAM: { Config: [{ Subnet: "10.251.8.0/24", Gateway: "10.251.8.1" }] },
      }),
    ).rejects.toThrow(
      /exists with subnet 10.251.7.0\/24, not the node's podCIDR 10.251.8.0\/24; remove it/,
    );
    await removeDockerNetwork(name);
    await removeDockerNetwork(name); // absent is fine
  });
});
