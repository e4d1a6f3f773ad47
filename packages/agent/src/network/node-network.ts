// A node's pod network, flannel's host-gw mode done by hand: the node's pod CIDR (node IPAM's
// node.spec.podCIDR) is a Linux bridge (a Docker bridge network `tug-<node>`, gateway .1, that
// sandboxes join); every other node's pod CIDR is routed via that node's InternalIP; the filter
// table ACCEPTs forwarded pod traffic (Docker sets the FORWARD policy to DROP); traffic from
// pods leaving the cluster CIDR is masqueraded, pod-to-pod traffic keeps its pod source IP.
//
// Everything added is tagged so that teardown removes exactly it: routes carry protocol
// TUG_ROUTE_PROTOCOL, rules live in the chains TUG-FORWARD (filter) and TUG-POD-MASQ (nat).

import { createHash } from "node:crypto";
import type { Node } from "@tug/api";
import type { HostCommand, IptablesTools } from "./host-command.js";
import { detectIptables } from "./host-command.js";

/** The rtnetlink protocol number tug's routes carry (unassigned; `ip route show proto 77`). */
export const TUG_ROUTE_PROTOCOL = "77";
export const FORWARD_CHAIN = "TUG-FORWARD";
export const POD_MASQ_CHAIN = "TUG-POD-MASQ";
/** The Docker network a node's sandboxes join. */
export function podNetworkName(nodeName: string): string {
  return `tug-${nodeName}`;
}

/**
 * The Linux bridge device of the node's pod network: "tug" + 12 hex digits of the node name's
 * SHA-256 (interface names are at most 15 bytes; node names are longer).
 */
export function bridgeName(nodeName: string): string {
  return `tug${createHash("sha256").update(nodeName).digest("hex").slice(0, 12)}`;
}

/** Another node's pod CIDR and the address it is reached by. */
export interface PeerNode {
  readonly name: string;
  readonly podCidr: string;
  readonly nodeIp: string;
}

export interface NodeNetworkSpec {
  readonly nodeName: string;
  /** This node's pod CIDR, e.g. 10.244.1.0/24. */
  readonly podCidr: string;
  /** The whole pod network, e.g. 10.244.0.0/16 (the controller manager's --cluster-cidr). */
  readonly clusterCidr: string;
  readonly peers: readonly PeerNode[];
}

export interface Route {
  readonly cidr: string;
  readonly via: string;
}

/** Parses an IPv4 CIDR; throws naming the field and the expected form. */
export function parseIpv4Cidr(cidr: string, field: string): { base: number; bits: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const bits = Number(m?.[5]);
  if (m === null || octets.some((o) => o > 255) || bits > 32) {
    throw new Error(`${field}: "${cidr}" is not an IPv4 CIDR; use a.b.c.d/n, e.g. 10.244.1.0/24`);
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: value - (value % size), bits };
}

function ipv4(value: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join(".");
}

/** The bridge gateway (and cluster DNS) address of a pod CIDR: its first host, .1 of a /24. */
export function gatewayIp(podCidr: string): string {
  return ipv4(parseIpv4Cidr(podCidr, "podCIDR").base + 1);
}

/** Whether `ip` lies in `cidr`. */
export function cidrContains(cidr: string, ip: string): boolean {
  const { base, bits } = parseIpv4Cidr(cidr, "cidr");
  const { base: addr } = parseIpv4Cidr(`${ip}/32`, "ip");
  return addr >= base && addr < base + 2 ** (32 - bits);
}

/**
 * The peers to route to from Node objects: every other node with a podCIDR and an InternalIP
 * (nodes not yet given a CIDR by node IPAM are skipped until they are).
 */
export function peersFromNodes(nodes: readonly Node[], self: string): PeerNode[] {
  const out: PeerNode[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name ?? "";
    const podCidr = n.spec?.podCidr ?? "";
    const nodeIp = n.status?.addresses.find((a) => a.type === "InternalIP")?.address ?? "";
    if (name === self || podCidr === "" || nodeIp === "") continue;
    out.push({ name, podCidr, nodeIp });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The routes to other nodes' pod CIDRs. */
export function peerRoutes(spec: NodeNetworkSpec): Route[] {
  return spec.peers.map((p) => ({ cidr: p.podCidr, via: p.nodeIp }));
}

/**
 * What Docker is asked for: a bridge network on the pod CIDR with gateway .1 and Docker's own
 * masquerade off (TUG-POD-MASQ masquerades only traffic leaving the cluster CIDR).
 * These are the fields of the Engine API's POST /networks/create.
 */
export function dockerNetworkConfig(spec: NodeNetworkSpec): {
  Name: string;
  Driver: "bridge";
  IPAM: { Config: { Subnet: string; Gateway: string }[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
} {
  parseIpv4Cidr(spec.podCidr, "node.spec.podCIDR");
  return {
    Name: podNetworkName(spec.nodeName),
    Driver: "bridge",
    IPAM: { Config: [{ Subnet: spec.podCidr, Gateway: gatewayIp(spec.podCidr) }] },
    Options: {
      "com.docker.network.bridge.name": bridgeName(spec.nodeName),
      "com.docker.network.bridge.enable_ip_masquerade": "false",
    },
    Labels: { "io.tug.node": spec.nodeName },
  };
}

/** `iptables-restore --noflush` input for the filter and nat rules of the pod network. */
export function networkRuleset(spec: NodeNetworkSpec): string {
  const c = spec.clusterCidr;
  parseIpv4Cidr(c, "clusterCIDR");
  return [
    "*filter",
    `:${FORWARD_CHAIN} - [0:0]`,
    `-A ${FORWARD_CHAIN} -m comment --comment "tug pod traffic" -s ${c} -j ACCEPT`,
    `-A ${FORWARD_CHAIN} -m comment --comment "tug pod traffic" -d ${c} -j ACCEPT`,
    `-A ${FORWARD_CHAIN} -m comment --comment "tug service traffic (marked by the proxy)" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
    "COMMIT",
    "*nat",
    `:${POD_MASQ_CHAIN} - [0:0]`,
    `-A ${POD_MASQ_CHAIN} -m comment --comment "tug pods leaving the cluster" -s ${c} ! -d ${c} -j MASQUERADE`,
    "COMMIT",
    "",
  ].join("\n");
}

/**
 * Docker's chain for the administrator's forwarding rules: Docker keeps the jump to it first in
 * FORWARD, ahead of its DOCKER-ISOLATION chains (which drop traffic between two bridges, i.e.
 * between the pod networks of two nodes sharing one host), and re-inserts its own jumps above
 * any other rule whenever it creates a network. "Docker and iptables":
 * https://docs.docker.com/engine/network/packet-filtering-firewalls/#add-iptables-policies-before-dockers-rules
 */
export const DOCKER_USER_CHAIN = "DOCKER-USER";

interface Jump {
  readonly table: string;
  readonly chain: string;
  readonly rule: readonly string[];
}

/** The jumps into tug's chains: the filter one from DOCKER-USER when Docker runs, else FORWARD. */
function jumps(forwardFrom: string): Jump[] {
  return [
    { table: "filter", chain: forwardFrom, rule: ["-j", FORWARD_CHAIN] },
    { table: "nat", chain: "POSTROUTING", rule: ["-j", POD_MASQ_CHAIN] },
  ];
}

/**
 * The IPv4 addresses of this network namespace, from `ip -4 -o addr show` lines such as
 * "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0".
 */
export function parseLocalAddresses(ipAddrOutput: string): Set<string> {
  const out = new Set<string>();
  for (const m of ipAddrOutput.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)) {
    if (m[1] !== undefined) out.add(m[1]);
  }
  return out;
}

/** Programs and removes the host side of the pod network (routes and iptables). */
export class NodeNetwork {
  private tools: IptablesTools | undefined;

  constructor(private readonly run: HostCommand) {}

  private async iptables(): Promise<IptablesTools> {
    this.tools ??= await detectIptables(this.run);
    return this.tools;
  }

  /** tug's routes now in the main table (tagged with TUG_ROUTE_PROTOCOL). */
  async routes(): Promise<Route[]> {
    const out = await this.run(["ip", "-4", "route", "show", "proto", TUG_ROUTE_PROTOCOL]);
    const routes: Route[] = [];
    for (const line of out.split("\n")) {
      const m = /^(\S+) via (\S+)/.exec(line.trim());
      if (m?.[1] !== undefined && m[2] !== undefined) {
        routes.push({ cidr: m[1].includes("/") ? m[1] : `${m[1]}/32`, via: m[2] });
      }
    }
    return routes;
  }

  /**
   * Makes the host match `spec`: routes to peers replaced, routes to nodes that left removed,
   * the rules rewritten, the jumps inserted once. Idempotent.
   */
  async apply(spec: NodeNetworkSpec): Promise<void> {
    // A peer whose InternalIP is an address of this host shares its network namespace (`tug
    // up` runs every node on one machine): its bridge is here, and so is the connected route
    // to its podCIDR, which a route "via" our own address would replace.
    const local = parseLocalAddresses(await this.run(["ip", "-4", "-o", "addr", "show"]));
    const want = peerRoutes(spec).filter((r) => !local.has(r.via));
    for (const r of want) {
      parseIpv4Cidr(r.cidr, `node ${r.via} podCIDR`);
      await this.run(["ip", "route", "replace", r.cidr, "via", r.via, "proto", TUG_ROUTE_PROTOCOL]);
    }
    const keep = new Set(want.map((r) => r.cidr));
    for (const r of await this.routes()) {
      if (!keep.has(r.cidr)) await this.deleteRoute(r);
    }
    const t = await this.iptables();
    await this.run([t.restore, "--noflush"], networkRuleset(spec));
    const forwardFrom = (await this.chainExists(t, "filter", DOCKER_USER_CHAIN))
      ? DOCKER_USER_CHAIN
      : "FORWARD";
    for (const j of jumps(forwardFrom)) {
      const exists = await this.run([t.iptables, "-t", j.table, "-C", j.chain, ...j.rule])
        .then(() => true)
        .catch(() => false);
      if (!exists) await this.run([t.iptables, "-t", j.table, "-I", j.chain, "1", ...j.rule]);
    }
  }

  /**
   * Turns on hairpin mode on every port of `bridge` that lacks it, so that a pod whose
   * connection to a ClusterIP is DNATed back to itself gets the frame back out of the port it
   * came in by (the kubelet's --hairpin-mode=hairpin-veth). Returns how many ports changed.
   */
  async enableHairpin(bridge: string): Promise<number> {
    const out = await this.run(["ip", "-d", "-o", "link", "show", "master", bridge]);
    let changed = 0;
    for (const line of out.split("\n")) {
      const m = /^\d+:\s+([^:@\s]+)/.exec(line);
      if (m?.[1] === undefined || /\bhairpin on\b/.test(line)) continue;
      await this.run(["ip", "link", "set", "dev", m[1], "type", "bridge_slave", "hairpin", "on"]);
      changed++;
    }
    return changed;
  }

  private chainExists(t: IptablesTools, table: string, chain: string): Promise<boolean> {
    return this.run([t.iptables, "-t", table, "-S", chain])
      .then(() => true)
      .catch(() => false);
  }

  private async deleteRoute(r: Route): Promise<void> {
    await this.run(["ip", "route", "del", r.cidr, "via", r.via, "proto", TUG_ROUTE_PROTOCOL]);
  }

  /** Removes tug's routes, jumps and chains; leaves everything else. Safe to repeat. */
  async teardown(): Promise<void> {
    for (const r of await this.routes()) await this.deleteRoute(r);
    const t = await this.iptables();
    for (const j of [...jumps("FORWARD"), ...jumps(DOCKER_USER_CHAIN).slice(0, 1)]) {
      if (!(await this.chainExists(t, j.table, j.chain))) continue;
      for (;;) {
        const removed = await this.run([t.iptables, "-t", j.table, "-D", j.chain, ...j.rule])
          .then(() => true)
          .catch(() => false);
        if (!removed) break;
      }
    }
    for (const [table, chain] of [
      ["filter", FORWARD_CHAIN],
      ["nat", POD_MASQ_CHAIN],
    ] as const) {
      if (!(await this.chainExists(t, table, chain))) continue;
      await this.run([t.iptables, "-t", table, "-F", chain]);
      await this.run([t.iptables, "-t", table, "-X", chain]);
    }
  }
}
