// A set of equal-sized subnets carved out of the cluster CIDR, handed out one per node
// (Kubernetes' pkg/controller/nodeipam/ipam/cidrset): allocation starts after the last one
// handed out, so that a released range is not reused at once while stale routes may remain.
// IPv4 and IPv6, with addresses as bigints.
// https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/

/** A parsed CIDR: the network address as a number, its prefix length and address width. */
export interface Cidr {
  readonly base: bigint;
  readonly prefix: number;
  /** 32 for IPv4, 128 for IPv6. */
  readonly bits: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(p);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  let value = 0n;
  for (const g of [
    ...head,
    ...Array<string>(halves.length === 2 ? missing : 0).fill("0"),
    ...tail,
  ]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(`0x${g}`);
  }
  return value;
}

/** Parses "10.244.0.0/16" or "fd00::/48"; throws an Error naming `field` and the fix. */
export function parseCidr(text: string, field = "cidr"): Cidr {
  const [ip, len, extra] = text.split("/");
  const v6 = (ip ?? "").includes(":");
  const bits = v6 ? 128 : 32;
  const addr = ip === undefined ? undefined : v6 ? parseIpv6(ip) : parseIpv4(ip);
  const prefix = len !== undefined && /^\d{1,3}$/.test(len) ? Number(len) : Number.NaN;
  if (addr === undefined || extra !== undefined || !(prefix >= 0 && prefix <= bits)) {
    throw new Error(
      `${field}: invalid CIDR ${JSON.stringify(text)}: give an address and a prefix length, e.g. 10.244.0.0/16`,
    );
  }
  const hostBits = BigInt(bits - prefix);
  return { base: (addr >> hostBits) << hostBits, prefix, bits };
}

export function formatCidr(cidr: Cidr): string {
  if (cidr.bits === 32) {
    const octets = [24n, 16n, 8n, 0n].map((s) => ((cidr.base >> s) & 255n).toString());
    return `${octets.join(".")}/${cidr.prefix}`;
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((cidr.base >> BigInt(i * 16)) & 0xffffn).toString(16));
  // The longest run of zero groups (two or more) becomes "::" (RFC 5952).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j;
  }
  const text =
    best.at < 0
      ? groups.join(":")
      : `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
  return `${text}/${cidr.prefix}`;
}

/** The node-sized subnets of a cluster CIDR and which are taken. */
export class CidrSet {
  readonly cluster: Cidr;
  readonly nodeMaskSize: number;
  /** How many node subnets the cluster CIDR holds. */
  readonly size: number;
  private readonly used = new Set<number>();
  private next = 0;

  /** Throws when the node mask is not longer than the cluster prefix or makes too many subnets. */
  constructor(clusterCidr: string, nodeMaskSize: number) {
    this.cluster = parseCidr(clusterCidr, "--cluster-cidr");
    const { prefix, bits } = this.cluster;
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < prefix || nodeMaskSize > bits) {
      throw new Error(
        `--node-cidr-mask-size: ${nodeMaskSize} must lie between the cluster CIDR's prefix length ${prefix} and ${bits}`,
      );
    }
    // Kubernetes' limit: at most 16 bits of subnet index (65536 nodes).
    if (nodeMaskSize - prefix > 16) {
      throw new Error(
        `--node-cidr-mask-size: ${nodeMaskSize} cuts ${formatCidr(this.cluster)} into more than 65536 node subnets; use a mask of at most ${prefix + 16}`,
      );
    }
    this.nodeMaskSize = nodeMaskSize;
    this.size = 2 ** (nodeMaskSize - prefix);
  }

  private subnet(index: number): Cidr {
    const shift = BigInt(this.cluster.bits - this.nodeMaskSize);
    return {
      base: this.cluster.base + (BigInt(index) << shift),
      prefix: this.nodeMaskSize,
      bits: this.cluster.bits,
    };
  }

  /** The index of `cidr` among the node subnets; undefined if it is not one of them. */
  private indexOf(cidr: string): number | undefined {
    let parsed: Cidr;
    try {
      parsed = parseCidr(cidr);
    } catch {
      return undefined;
    }
    if (parsed.bits !== this.cluster.bits || parsed.prefix !== this.nodeMaskSize) return undefined;
    const offset = parsed.base - this.cluster.base;
    const index = offset >> BigInt(this.cluster.bits - this.nodeMaskSize);
    if (offset < 0n || index >= BigInt(this.size)) return undefined;
    return Number(index);
  }

  /** The next free subnet, or undefined when every one is taken. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.size; i++) {
      const index = (this.next + i) % this.size;
      if (!this.used.has(index)) {
        this.used.add(index);
        this.next = (index + 1) % this.size;
        return formatCidr(this.subnet(index));
      }
    }
    return undefined;
  }

  /** Marks `cidr` taken (a node already has it); false if it is not a subnet of this set. */
  occupy(cidr: string): boolean {
    const index = this.indexOf(cidr);
    if (index === undefined) return false;
    this.used.add(index);
    return true;
  }

  release(cidr: string): void {
    const index = this.indexOf(cidr);
    if (index !== undefined) this.used.delete(index);
  }

  isTaken(cidr: string): boolean {
    const index = this.indexOf(cidr);
    return index !== undefined && this.used.has(index);
  }
}
