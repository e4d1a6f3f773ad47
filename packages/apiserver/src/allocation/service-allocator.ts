// ClusterIP and NodePort allocation for Services, as kube-apiserver's service REST storage does
// (pkg/registry/core/service/storage/alloc.go, ipallocator, portallocator): on create a
// Service gets spec.clusterIP/clusterIPs from --service-cluster-ip-range and a nodePort per
// port from --service-node-port-range when its type needs them; a requested address or port is
// checked for range and conflicts; an update allocates what the new type needs and gives back
// what the old one no longer does; a delete gives everything back. Headless (clusterIP None)
// and ExternalName Services get nothing. Allocations live in the store as one key per slot
// (range-reservations.ts), so several API servers on one store never hand out the same one;
// a periodic repair (Kubernetes' repair controllers) gives back slots whose Service is gone
// and records slots of Services that lack one.

import { FieldError, FieldErrorAggregate, FieldPath, type Service } from "@tug/api";
import { ApiError } from "../storage/errors.js";
import type { EtcdClient } from "../storage/etcd-client.js";
import { pickFreeOffset, type Random } from "./free-offset.js";
import { DEFAULT_SERVICE_CIDR, IpRange } from "./ip-range.js";
import { DEFAULT_NODE_PORT_RANGE, PortRange } from "./port-range.js";
import {
  type Owner,
  RangeReservations,
  type Reservation,
  sameOwner,
} from "./range-reservations.js";

export interface ServiceAllocatorOptions {
  /** --service-cluster-ip-range; DEFAULT_SERVICE_CIDR when unset. */
  readonly serviceClusterIpRange?: string;
  /** --service-node-port-range; DEFAULT_NODE_PORT_RANGE when unset. */
  readonly serviceNodePortRange?: string;
  /** Randomness for the choice of a free slot. */
  readonly random: Random;
}

/** Attempts at a dynamic allocation when other servers keep taking the chosen slot. */
const DYNAMIC_ATTEMPTS = 16;

/** True when the Service gets a cluster IP: all but headless and ExternalName. */
export function needsClusterIp(svc: Service): boolean {
  const spec = svc.spec;
  return spec !== undefined && spec.type !== "ExternalName" && spec.clusterIp !== "None";
}

/** True when the Service's ports get node ports: NodePort, and LoadBalancer unless disabled. */
export function needsNodePorts(svc: Service): boolean {
  const type = svc.spec?.type;
  return (
    type === "NodePort" ||
    (type === "LoadBalancer" && svc.spec?.allocateLoadBalancerNodePorts !== false)
  );
}

/** The slots a stored Service holds: its cluster IP and node ports. */
function heldSlots(svc: Service | undefined): { ips: Set<string>; ports: Set<string> } {
  const ips = new Set<string>();
  const ports = new Set<string>();
  if (svc?.spec === undefined) return { ips, ports };
  if (needsClusterIp(svc) && svc.spec.clusterIp !== "") ips.add(svc.spec.clusterIp);
  for (const port of svc.spec.ports) if (port.nodePort !== 0) ports.add(String(port.nodePort));
  return { ips, ports };
}

function ownerOf(svc: Service): Owner {
  return {
    namespace: svc.metadata?.namespace ?? "",
    name: svc.metadata?.name ?? "",
    uid: svc.metadata?.uid ?? "",
  };
}

export class ServiceAllocator {
  readonly ipRange: IpRange;
  readonly portRange: PortRange;
  readonly ips: RangeReservations;
  readonly ports: RangeReservations;
  private readonly random: Random;
  /** Leak candidates of the last repair, by key, with the mod revision seen then. */
  private suspects = new Map<string, number>();

  constructor(etcd: EtcdClient, registryPrefix: string, options: ServiceAllocatorOptions) {
    this.ipRange = IpRange.parse(options.serviceClusterIpRange ?? DEFAULT_SERVICE_CIDR);
    this.portRange = PortRange.parse(options.serviceNodePortRange ?? DEFAULT_NODE_PORT_RANGE);
    this.ips = new RangeReservations(etcd, `${registryPrefix}/ranges/serviceips`);
    this.ports = new RangeReservations(etcd, `${registryPrefix}/ranges/servicenodeports`);
    this.random = options.random;
  }

  /** The first address of the range: the `kubernetes` Service's (kube-apiserver's rule). */
  get apiServerServiceIp(): string {
    return this.ipRange.ipAt(0);
  }

  /** A new allocation for one create or update request. */
  begin(): ServiceAllocation {
    return new ServiceAllocation(this);
  }

  /** Gives back everything a deleted Service held. */
  async release(svc: Service): Promise<void> {
    const owner = ownerOf(svc);
    const { ips, ports } = heldSlots(svc);
    await Promise.all([
      ...[...ips].map((ip) => this.ips.release(ip, owner)),
      ...[...ports].map((port) => this.ports.release(port, owner)),
    ]);
  }

  /** @internal A random free slot of `range`, or undefined when it is full. */
  async pickFree(which: "ip" | "port"): Promise<string | undefined> {
    const reservations = which === "ip" ? this.ips : this.ports;
    const { reservations: all } = await reservations.list();
    const used = new Set<number>();
    for (const r of all) {
      const offset =
        which === "ip" ? this.ipRange.offsetOf(r.slot) : this.portRange.offsetOf(Number(r.slot));
      if (offset !== undefined) used.add(offset);
    }
    const range = which === "ip" ? this.ipRange : this.portRange;
    const offset = pickFreeOffset(range.size, range.staticBand, used, this.random);
    if (offset === undefined) return undefined;
    return which === "ip" ? this.ipRange.ipAt(offset) : String(this.portRange.portAt(offset));
  }

  /**
   * Kubernetes' repair controllers (pkg/registry/core/service/ipallocator/controller/repair.go,
   * portallocator/controller/repair.go): `services` is every Service at `revision`. A Service's
   * slot without a reservation is reserved for it; a reservation no Service holds at the
   * reservations' read is a leak (a server that died between reserving and storing, a delete
   * whose release failed) and is given back when a later repair still finds it unchanged, so a
   * create in flight is never robbed. Returns what it did, for logs and tests.
   */
  async repair(services: readonly Service[]): Promise<{ recorded: string[]; released: string[] }> {
    const recorded: string[] = [];
    const released: string[] = [];
    const holders = new Map<string, Owner>();
    for (const svc of services) {
      const owner = ownerOf(svc);
      const { ips, ports } = heldSlots(svc);
      for (const ip of ips) holders.set(this.ips.keyOf(ip), owner);
      for (const port of ports) holders.set(this.ports.keyOf(port), owner);
    }
    const suspects = new Map<string, number>();
    for (const [reservations, inRange] of [
      [this.ips, (slot: string) => this.ipRange.offsetOf(slot) !== undefined],
      [this.ports, (slot: string) => this.portRange.offsetOf(Number(slot)) !== undefined],
    ] as const) {
      const { reservations: all } = await reservations.list();
      const seen = new Set<string>();
      for (const r of all) {
        const key = reservations.keyOf(r.slot);
        seen.add(key);
        if (isHeld(r, holders.get(key))) continue;
        const before = this.suspects.get(key);
        if (before === r.modRevision) {
          if (await reservations.releaseAt(r.slot, r.modRevision)) released.push(key);
        } else {
          suspects.set(key, r.modRevision);
        }
      }
      for (const [key, owner] of holders) {
        if (!key.startsWith(reservations.keyOf("")) || seen.has(key)) continue;
        const slot = key.slice(reservations.keyOf("").length);
        if (!inRange(slot)) continue;
        if ((await reservations.reserve(slot, owner)) === "reserved") recorded.push(key);
      }
    }
    this.suspects = suspects;
    return { recorded, released };
  }
}

function isHeld(r: Reservation, holder: Owner | undefined): boolean {
  return holder !== undefined && r.owner !== undefined && sameOwner(r.owner, holder);
}

/**
 * The slots one request takes. allocate may run more than once (an update retried on a
 * conflict): slots it took before are reused or given back by commit. After the object is
 * stored call commit; when it is not, call abort.
 */
export class ServiceAllocation {
  private readonly takenIps = new Map<string, Owner>();
  private readonly takenPorts = new Map<string, Owner>();

  constructor(private readonly allocator: ServiceAllocator) {}

  /**
   * Fills in spec.clusterIP, spec.clusterIPs and the node ports `svc` needs, reserving them
   * for it; slots `old` (the stored Service of an update) holds stay its own. Throws a
   * FieldErrorAggregate (Invalid) for a requested slot out of range or taken, and an ApiError
   * InternalError when a range is full, with Kubernetes' messages.
   */
  async allocate(svc: Service, old?: Service, dryRun = false): Promise<void> {
    const spec = svc.spec;
    if (spec === undefined) return;
    const owner = ownerOf(svc);
    const oldSlots = heldSlots(old);
    const errors: FieldError[] = [];
    if (needsClusterIp(svc)) {
      const requested = spec.clusterIp !== "" ? spec.clusterIp : (spec.clusterIps[0] ?? "");
      if (requested === "") {
        if (!dryRun) {
          const ip = await this.takeDynamic("ip", owner, () =>
            ApiError.internal("failed to allocate a serviceIP: range is full"),
          );
          spec.clusterIp = ip;
          spec.clusterIps = [ip];
        }
      } else if (!oldSlots.ips.has(requested)) {
        const detail = await this.takeRequested("ip", requested, owner, dryRun);
        if (detail !== undefined) {
          errors.push(
            FieldError.invalid(
              FieldPath.root("spec", "clusterIPs"),
              [...(spec.clusterIps.length > 0 ? spec.clusterIps : [requested])],
              `failed to allocate IP ${requested}: ${detail}`,
            ),
          );
        }
      }
    }
    if (needsNodePorts(svc)) {
      const mine = new Set<string>();
      for (const [i, port] of spec.ports.entries()) {
        if (port.nodePort === 0) continue;
        const slot = String(port.nodePort);
        if (oldSlots.ports.has(slot) || mine.has(slot)) continue;
        mine.add(slot);
        const detail = await this.takeRequested("port", slot, owner, dryRun);
        if (detail !== undefined) {
          errors.push(
            FieldError.invalid(
              FieldPath.root("spec", "ports").index(i).child("nodePort"),
              port.nodePort,
              detail,
            ),
          );
        }
      }
      if (errors.length === 0 && !dryRun) {
        for (const port of spec.ports) {
          if (port.nodePort !== 0) continue;
          port.nodePort = Number(
            await this.takeDynamic("port", owner, () =>
              ApiError.internal("failed to allocate a nodePort: range is full"),
            ),
          );
        }
      }
    }
    if (errors.length > 0) {
      await this.abort();
      throw new FieldErrorAggregate(errors);
    }
  }

  /** The object is stored: gives back slots taken by earlier attempts and those `old` held
   * that `stored` no longer does. */
  async commit(stored: Service, old?: Service): Promise<void> {
    const now = heldSlots(stored);
    const { ips, ports } = this.allocator;
    const releases: Promise<boolean>[] = [];
    for (const [ip, owner] of this.takenIps)
      if (!now.ips.has(ip)) releases.push(ips.release(ip, owner));
    for (const [port, owner] of this.takenPorts) {
      if (!now.ports.has(port)) releases.push(ports.release(port, owner));
    }
    if (old !== undefined) {
      const owner = ownerOf(old);
      const before = heldSlots(old);
      for (const ip of before.ips) if (!now.ips.has(ip)) releases.push(ips.release(ip, owner));
      for (const port of before.ports) {
        if (!now.ports.has(port)) releases.push(ports.release(port, owner));
      }
    }
    this.takenIps.clear();
    this.takenPorts.clear();
    await Promise.all(releases);
  }

  /** The object was not stored: gives back every slot this allocation took. */
  async abort(): Promise<void> {
    const { ips, ports } = this.allocator;
    const releases = [
      ...[...this.takenIps].map(([ip, owner]) => ips.release(ip, owner)),
      ...[...this.takenPorts].map(([port, owner]) => ports.release(port, owner)),
    ];
    this.takenIps.clear();
    this.takenPorts.clear();
    await Promise.all(releases);
  }

  /** Reserves a requested slot; the reason it cannot be had, in Kubernetes' words, or undefined. */
  private async takeRequested(
    which: "ip" | "port",
    slot: string,
    owner: Owner,
    dryRun: boolean,
  ): Promise<string | undefined> {
    const a = this.allocator;
    if (which === "ip" && a.ipRange.offsetOf(slot) === undefined) {
      return `the provided IP (${slot}) is not in the valid range. The range of valid IPs is ${a.ipRange.cidr}`;
    }
    if (which === "port" && a.portRange.offsetOf(Number(slot)) === undefined) {
      return `provided port is not in the valid range. The range of valid ports is ${a.portRange}`;
    }
    const taken = which === "ip" ? this.takenIps : this.takenPorts;
    if (taken.has(slot)) return undefined;
    const reservations = which === "ip" ? a.ips : a.ports;
    const allocated =
      which === "ip" ? "provided IP is already allocated" : "provided port is already allocated";
    if (dryRun) {
      const { reservations: all } = await reservations.list();
      const held = all.find((r) => r.slot === slot);
      return held === undefined || (held.owner !== undefined && sameOwner(held.owner, owner))
        ? undefined
        : allocated;
    }
    const outcome = await reservations.reserve(slot, owner);
    if (outcome === "taken") return allocated;
    if (outcome === "reserved") taken.set(slot, owner);
    return undefined;
  }

  /** Reserves a random free slot (one an earlier attempt took is given back by commit). */
  private async takeDynamic(
    which: "ip" | "port",
    owner: Owner,
    full: () => ApiError,
  ): Promise<string> {
    const a = this.allocator;
    const reservations = which === "ip" ? a.ips : a.ports;
    const taken = which === "ip" ? this.takenIps : this.takenPorts;
    for (let attempt = 0; attempt < DYNAMIC_ATTEMPTS; attempt++) {
      const slot = await a.pickFree(which);
      if (slot === undefined) throw full();
      if ((await reservations.reserve(slot, owner)) === "reserved") {
        taken.set(slot, owner);
        return slot;
      }
    }
    throw full();
  }
}
