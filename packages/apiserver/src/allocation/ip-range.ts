// An IPv4 service CIDR as Kubernetes' IP range allocator sees it
// (pkg/registry/core/service/ipallocator): offsets into the CIDR, without the network and
// broadcast addresses, and a low "static" band that dynamic allocation avoids while the upper
// band has room (KEP-3070, "Reserve Service IP Ranges For Dynamic and Static IP Allocation").
// IPv4 only: tug runs single-stack clusters.

/** kube-apiserver's --service-cluster-ip-range as tug defaults it. */
export const DEFAULT_SERVICE_CIDR = "10.96.0.0/12";

export class IpRange {
  /** The first usable address (the network address + 1), as a 32-bit number. */
  private readonly base: number;
  /** Usable addresses: the CIDR without its network and broadcast addresses. */
  readonly size: number;
  /**
   * Offsets [0, staticBand) form the static band: min(max(16, size/16), 256) addresses
   * (KEP-3070). Dynamic allocation takes them only when the upper band is full.
   */
  readonly staticBand: number;

  private constructor(
    readonly cidr: string,
    network: number,
    prefix: number,
  ) {
    const total = 2 ** (32 - prefix);
    this.base = network + 1;
    this.size = Math.max(0, total - 2);
    this.staticBand = Math.min(Math.max(16, Math.floor(total / 16)), 256, this.size);
  }

  /** Parses "a.b.c.d/n" (n 8-30). Throws an Error naming the flag and the expected form. */
  static parse(cidr: string): IpRange {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
    const address = m === null ? undefined : ipv4ToNumber(m[1] as string);
    const prefix = m === null ? Number.NaN : Number(m[2]);
    if (address === undefined || !(prefix >= 8 && prefix <= 30)) {
      throw new Error(
        `--service-cluster-ip-range: ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix of 8 to 30 bits (e.g. ${DEFAULT_SERVICE_CIDR})`,
      );
    }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return new IpRange(
      `${numberToIpv4((address & mask) >>> 0)}/${prefix}`,
      (address & mask) >>> 0,
      prefix,
    );
  }

  /** The offset of `ip`, or undefined when it is not a usable address of the range. */
  offsetOf(ip: string): number | undefined {
    const n = ipv4ToNumber(ip);
    if (n === undefined) return undefined;
    const offset = n - this.base;
    return offset >= 0 && offset < this.size ? offset : undefined;
  }

  /** The address at `offset` (0 <= offset < size). */
  ipAt(offset: number): string {
    return numberToIpv4(this.base + offset);
  }
}

/** "10.96.0.1" → 0x0a600001, or undefined when not a dotted-quad IPv4 address. */
export function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
