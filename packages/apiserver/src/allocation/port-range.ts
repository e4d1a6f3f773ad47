// kube-apiserver's --service-node-port-range: an inclusive port range, with a low static band
// that dynamic allocation avoids while the upper band has room (KEP-3668, "Reserve NodePort
// ranges for dynamic and static allocation").

/** kube-apiserver's default --service-node-port-range. */
export const DEFAULT_NODE_PORT_RANGE = "30000-32767";

export class PortRange {
  readonly size: number;
  /** Offsets [0, staticBand): min(max(16, size/32), 128) ports (KEP-3668). */
  readonly staticBand: number;

  private constructor(
    readonly base: number,
    readonly max: number,
  ) {
    this.size = max - base + 1;
    this.staticBand = Math.min(Math.max(16, Math.floor(this.size / 32)), 128, this.size);
  }

  /** Parses "30000-32767" (or a single port). Throws an Error naming the flag and the form. */
  static parse(range: string): PortRange {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(range.trim());
    const lo = m === null ? Number.NaN : Number(m[1]);
    const hi = m === null ? Number.NaN : Number(m[2] ?? m[1]);
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw new Error(
        `--service-node-port-range: ${JSON.stringify(range)} is not a port range "min-max" within 1-65535 (e.g. ${DEFAULT_NODE_PORT_RANGE})`,
      );
    }
    return new PortRange(lo, hi);
  }

  /** The offset of `port`, or undefined outside the range. */
  offsetOf(port: number): number | undefined {
    return Number.isInteger(port) && port >= this.base && port <= this.max
      ? port - this.base
      : undefined;
  }

  portAt(offset: number): number {
    return this.base + offset;
  }

  /** "30000-32767", as Kubernetes prints the range in its errors. */
  toString(): string {
    return `${this.base}-${this.max}`;
  }
}
