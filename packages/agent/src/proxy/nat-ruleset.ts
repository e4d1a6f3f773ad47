// The service proxy's nat table as `iptables-restore --noflush` input, in kube-proxy's
// iptables-mode layout with tug's prefix (https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-iptables):
//
//   PREROUTING, OUTPUT → TUG-SERVICES: one rule per ClusterIP:port → TUG-SVC-<hash>, then
//                        (last) local destinations → TUG-NODEPORTS
//   TUG-NODEPORTS      : per node port → TUG-MARK-MASQ, then → TUG-SVC-<hash>
//   TUG-SVC-<hash>     : traffic from outside the cluster CIDR → TUG-MARK-MASQ; then one rule per
//                        endpoint, `-m statistic --mode random --probability 1/(n-i)` → TUG-SEP-*
//   TUG-SEP-<hash>     : the endpoint's own traffic (hairpin) → TUG-MARK-MASQ; DNAT to ip:port
//   TUG-MARK-MASQ      : sets mark 0x4000
//   POSTROUTING → TUG-POSTROUTING: marked packets are MASQUERADEd (the mark is cleared first)
//
// Pure: the same input gives the same text; chain names hash the service port and endpoint.

import { createHash } from "node:crypto";
import { type ProxyServicePort, servicePortName } from "./service-ports.js";

/** Every chain tug creates starts with this; nothing else is touched. */
export const CHAIN_PREFIX = "TUG-";
export const SERVICES_CHAIN = "TUG-SERVICES";
export const NODEPORTS_CHAIN = "TUG-NODEPORTS";
export const MARK_MASQ_CHAIN = "TUG-MARK-MASQ";
export const POSTROUTING_CHAIN = "TUG-POSTROUTING";

/**
 * Whether the proxy owns a nat chain: its four fixed chains and every TUG-SVC-* and TUG-SEP-*.
 * Other TUG- chains (the pod network's) are left alone by syncs and cleanup.
 */
export function isProxyChain(chain: string): boolean {
  return (
    chain === SERVICES_CHAIN ||
    chain === NODEPORTS_CHAIN ||
    chain === MARK_MASQ_CHAIN ||
    chain === POSTROUTING_CHAIN ||
    chain.startsWith("TUG-SVC-") ||
    chain.startsWith("TUG-SEP-")
  );
}
/** kube-proxy's masquerade mark bit (--iptables-masquerade-bit 14). */
export const MASQ_MARK = "0x4000";

/** The jumps from built-in nat chains into tug's chains, as `iptables -t nat` rule specs. */
export const NAT_JUMPS: readonly { chain: string; rule: readonly string[] }[] = [
  {
    chain: "PREROUTING",
    rule: ["-m", "comment", "--comment", "tug service portals", "-j", SERVICES_CHAIN],
  },
  {
    chain: "OUTPUT",
    rule: ["-m", "comment", "--comment", "tug service portals", "-j", SERVICES_CHAIN],
  },
  {
    chain: "POSTROUTING",
    rule: ["-m", "comment", "--comment", "tug postrouting rules", "-j", POSTROUTING_CHAIN],
  },
];

export interface NatRulesetInput {
  readonly servicePorts: readonly ProxyServicePort[];
  /**
   * The pod network's CIDR (--cluster-cidr, e.g. 10.244.0.0/16): traffic to a ClusterIP from
   * outside it is masqueraded so that replies come back through this node. Omit to skip.
   */
  readonly clusterCidr?: string;
  /**
   * Addresses node ports answer on (kube-proxy's --nodeport-addresses); empty or omitted: every
   * local address (`-m addrtype --dst-type LOCAL`).
   */
  readonly nodePortAddresses?: readonly string[];
  /** The nat table's chains now: the proxy's chains no longer needed are deleted (-X). */
  readonly existingChains?: readonly string[];
}

function hash16(text: string): string {
  // kube-proxy: base32(sha256(...))[:16]; base32 has no Node encoding, so encode by hand.
  const digest = createHash("sha256").update(text).digest();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return out;
}

/** TUG-SVC-<hash> of a service port (hash of its name and protocol, like kube-proxy's). */
export function serviceChain(sp: ProxyServicePort): string {
  return `TUG-SVC-${hash16(`${servicePortName(sp)}${sp.protocol.toLowerCase()}`)}`;
}

/** TUG-SEP-<hash> of one endpoint of a service port. */
export function endpointChain(sp: ProxyServicePort, ip: string, port: number): string {
  return `TUG-SEP-${hash16(`${servicePortName(sp)}${sp.protocol.toLowerCase()}${ip}:${port}`)}`;
}

/** kube-proxy formats the probability with 10 decimals (`%0.10f`). */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

function comment(text: string): string[] {
  return ["-m", "comment", "--comment", /\s/.test(text) ? `"${text}"` : text];
}

/** The `iptables-restore --noflush` input for the nat table. */
export function natRuleset(input: NatRulesetInput): string {
  const chains: string[] = [SERVICES_CHAIN, NODEPORTS_CHAIN, MARK_MASQ_CHAIN, POSTROUTING_CHAIN];
  const rules: string[][] = [
    [
      "-A",
      POSTROUTING_CHAIN,
      "-m",
      "mark",
      "!",
      "--mark",
      `${MASQ_MARK}/${MASQ_MARK}`,
      "-j",
      "RETURN",
    ],
    ["-A", POSTROUTING_CHAIN, "-j", "MARK", "--xor-mark", MASQ_MARK],
    ["-A", POSTROUTING_CHAIN, ...comment("tug service traffic requiring SNAT"), "-j", "MASQUERADE"],
    ["-A", MARK_MASQ_CHAIN, "-j", "MARK", "--or-mark", MASQ_MARK],
  ];
  const serviceRules: string[][] = [];
  const nodePortRules: string[][] = [];
  const chainRules: string[][] = [];
  for (const sp of input.servicePorts) {
    // No ready endpoint: no rules (kube-proxy REJECTs in the filter table; here the
    // connection times out).
    if (sp.endpoints.length === 0) continue;
    const name = servicePortName(sp);
    const proto = sp.protocol.toLowerCase();
    const svc = serviceChain(sp);
    chains.push(svc);
    const match = ["-p", proto, "-m", proto];
    serviceRules.push([
      "-A",
      SERVICES_CHAIN,
      ...comment(`${name} cluster IP`),
      ...match,
      "-d",
      `${sp.clusterIp}/32`,
      "--dport",
      String(sp.port),
      "-j",
      svc,
    ]);
    if (sp.nodePort > 0) {
      const np = [
        "-A",
        NODEPORTS_CHAIN,
        ...comment(name),
        ...match,
        "--dport",
        String(sp.nodePort),
      ];
      nodePortRules.push([...np, "-j", MARK_MASQ_CHAIN], [...np, "-j", svc]);
    }
    if (input.clusterCidr !== undefined) {
      chainRules.push([
        "-A",
        svc,
        ...comment(`${name} cluster IP`),
        ...match,
        "!",
        "-s",
        input.clusterCidr,
        "-d",
        `${sp.clusterIp}/32`,
        "--dport",
        String(sp.port),
        "-j",
        MARK_MASQ_CHAIN,
      ]);
    }
    const n = sp.endpoints.length;
    sp.endpoints.forEach((ep, i) => {
      const sep = endpointChain(sp, ep.ip, ep.port);
      chains.push(sep);
      const target = `${ep.ip}:${ep.port}`;
      const random =
        i < n - 1
          ? ["-m", "statistic", "--mode", "random", "--probability", probability(n - i)]
          : [];
      chainRules.push(["-A", svc, ...comment(`${name} -> ${target}`), ...random, "-j", sep]);
      chainRules.push(["-A", sep, ...comment(name), "-s", `${ep.ip}/32`, "-j", MARK_MASQ_CHAIN]);
      chainRules.push([
        "-A",
        sep,
        ...comment(name),
        ...match,
        "-j",
        "DNAT",
        "--to-destination",
        target,
      ]);
    });
  }
  const addresses = input.nodePortAddresses ?? [];
  const nodePortsJump = [
    "-A",
    SERVICES_CHAIN,
    ...comment("tug service nodeports; NOTE: this must be the last rule in this chain"),
  ];
  if (addresses.length === 0) {
    serviceRules.push([
      ...nodePortsJump,
      "-m",
      "addrtype",
      "--dst-type",
      "LOCAL",
      "-j",
      NODEPORTS_CHAIN,
    ]);
  } else {
    for (const a of addresses)
      serviceRules.push([...nodePortsJump, "-d", `${a}/32`, "-j", NODEPORTS_CHAIN]);
  }
  const keep = new Set(chains);
  const stale = [...new Set(input.existingChains ?? [])]
    .filter((c) => isProxyChain(c) && !keep.has(c))
    .sort();
  const lines = [
    "*nat",
    ...chains.map((c) => `:${c} - [0:0]`),
    ...stale.map((c) => `:${c} - [0:0]`),
    ...[...rules, ...serviceRules, ...nodePortRules, ...chainRules].map((r) => r.join(" ")),
    ...stale.map((c) => `-X ${c}`),
    "COMMIT",
    "",
  ];
  return lines.join("\n");
}

/** The nat input that removes the proxy's chains among `existingChains` (after the jumps are gone). */
export function natCleanupRuleset(existingChains: readonly string[]): string {
  const ours = [...new Set(existingChains)].filter(isProxyChain).sort();
  return [
    "*nat",
    ...ours.map((c) => `:${c} - [0:0]`),
    ...ours.map((c) => `-X ${c}`),
    "COMMIT",
    "",
  ].join("\n");
}

/**
 * The filter table's TUG-SERVICES chain: service ports without a ready endpoint REJECT new
 * connections (ICMP port unreachable: the client sees "connection refused" at once instead of
 * a timeout), on the ClusterIP and, for node ports, on every local address — kube-proxy's
 * filter-table KUBE-SERVICES and KUBE-EXTERNAL-SERVICES rules, in one chain.
 */
export function filterRuleset(servicePorts: readonly ProxyServicePort[]): string {
  const lines = ["*filter", `:${SERVICES_CHAIN} - [0:0]`];
  for (const sp of servicePorts) {
    if (sp.endpoints.length > 0) continue;
    const proto = sp.protocol.toLowerCase();
    const head = ["-A", SERVICES_CHAIN, ...comment(`${servicePortName(sp)} has no endpoints`)];
    const reject = ["-j", "REJECT", "--reject-with", "icmp-port-unreachable"];
    lines.push(
      [
        ...head,
        "-p",
        proto,
        "-m",
        proto,
        "-d",
        `${sp.clusterIp}/32`,
        "--dport",
        String(sp.port),
        ...reject,
      ].join(" "),
    );
    if (sp.nodePort > 0) {
      lines.push(
        [
          ...head,
          "-m",
          "addrtype",
          "--dst-type",
          "LOCAL",
          "-p",
          proto,
          "-m",
          proto,
          "--dport",
          String(sp.nodePort),
          ...reject,
        ].join(" "),
      );
    }
  }
  return [...lines, "COMMIT", ""].join("\n");
}

/** The jumps from built-in filter chains into the filter table's TUG-SERVICES (new connections only). */
export const FILTER_JUMPS: readonly { chain: string; rule: readonly string[] }[] = [
  "INPUT",
  "FORWARD",
  "OUTPUT",
].map((chain) => ({
  chain,
  rule: [
    "-m",
    "conntrack",
    "--ctstate",
    "NEW",
    "-m",
    "comment",
    "--comment",
    "tug service portals",
    "-j",
    SERVICES_CHAIN,
  ],
}));
