// A node's networking as tug-agent runs it (docs/networking.md, "Wiring into tug-agent"): the
// pod network first (the Docker bridge `tug-<node>` on the node's podCIDR, routes, rules), then
// the cluster DNS on the bridge gateway, then the service proxy (whose node-local DNS rule
// DNATs the DNS ClusterIP to that server). Each part can be turned off, so that several agents
// sharing one host's network namespace (`tug up`) run one proxy and one DNS between them.
// Nothing here blocks the agent's start: the network waits for node IPAM to give the node a
// podCIDR, which needs the Node the agent registers first.

import type { ApiClient } from "@tug/client";
import { ClusterDns } from "../dns/cluster-dns.js";
import { errorText, type Logger } from "../log.js";
import { IptablesProxier } from "../proxy/iptables-proxier.js";
import { ServiceInformers } from "../proxy/service-informers.js";
import { ServiceProxy } from "../proxy/service-proxy.js";
import { DEFAULT_DOCKER_SOCKET, removeDockerNetwork } from "./docker-network.js";
import { type HostCommand, hostCommand } from "./host-command.js";
import { installLocalnetGuard, removeLocalnetGuard } from "./localnet-guard.js";
import { gatewayIp, NodeNetwork, podNetworkName } from "./node-network.js";
import { NodeNetworkController } from "./node-network-controller.js";

/** How the node's pods are networked: tug's node network, or none (the runtime's own network). */
export type NetworkMode = "bridge" | "none";
export const NETWORK_MODES: readonly NetworkMode[] = ["bridge", "none"];

/** The DNS port pods reach through the DNS ClusterIP (RFC 1035's 53). */
export const DNS_PORT = 53;
/** A start step that failed (the DNS port busy, iptables locked) is tried again this often. */
export const START_RETRY_MS = 5_000;

/**
 * `sysctl` setting kube-proxy sets so that NodePorts answer on 127.0.0.1: packets from the
 * loopback address may then be routed out to a pod (they are masqueraded on the way).
 */
export const ROUTE_LOCALNET = "net.ipv4.conf.all.route_localnet";

export interface NodeNetworkingOptions {
  client: ApiClient;
  nodeName: string;
  /** The cluster's pod network (the controller manager's --cluster-cidr). */
  clusterCidr: string;
  mode: NetworkMode;
  /** Run the service proxy (one per network namespace: it owns the host-wide TUG- chains). */
  proxy: boolean;
  /** Run the cluster DNS server on the bridge gateway (bridge mode only). */
  dns: boolean;
  /** The DNS ClusterIP pods are given (the first --cluster-dns), DNATed to this node's DNS. */
  dnsClusterIp?: string;
  /** Runs ip, iptables and sysctl; default: on this host. */
  run?: HostCommand;
  /** Docker's socket, for the bridge network. */
  dockerSocket?: string;
  /** Called once the pod network is applied (the Node's NetworkUnavailable turns False). */
  onNetworkReady?: () => void;
  log: Logger;
}

export class NodeNetworking {
  readonly network: NodeNetworkController | undefined;
  private readonly informers: ServiceInformers;
  private dnsServer: ClusterDns | undefined;
  private proxy: ServiceProxy | undefined;
  private readonly run: HostCommand;
  private startup: Promise<void> | undefined;
  private stopped = false;
  private networkReady = false;

  constructor(private readonly o: NodeNetworkingOptions) {
    this.run = o.run ?? hostCommand();
    const onError = (e: unknown, what: string) => o.log.warn(what, { error: errorText(e) });
    this.informers = new ServiceInformers(o.client, onError);
    if (o.mode === "bridge") {
      this.network = new NodeNetworkController({
        client: o.client,
        nodeName: o.nodeName,
        clusterCidr: o.clusterCidr,
        run: this.run,
        ...(o.dockerSocket !== undefined && { dockerSocket: o.dockerSocket }),
        onError,
      });
    }
  }

  /** Whether the pod network is applied (always true in mode "none": the runtime's network). */
  get ready(): boolean {
    return this.o.mode === "none" || this.networkReady;
  }

  /**
   * Starts in the background: node network ready → DNS → proxy. Resolves at once; `started()`
   * resolves when all parts run. Failures are logged and retried by the parts themselves.
   */
  start(): void {
    this.startup ??= this.bringUp().catch((e: unknown) => {
      if (!this.stopped) this.o.log.error("node networking did not start", { error: errorText(e) });
    });
  }

  /** Resolves once every enabled part runs (or start failed, which is logged). */
  async started(): Promise<void> {
    await this.startup;
  }

  private async bringUp(): Promise<void> {
    const o = this.o;
    let gateway: string | undefined;
    if (this.network !== undefined) {
      await this.network.start();
      o.log.info("waiting for node IPAM to give this node a podCIDR", { node: o.nodeName });
      const spec = await this.network.ready();
      if (this.stopped) return;
      gateway = gatewayIp(spec.podCidr);
      this.networkReady = true;
      o.log.info("pod network ready", {
        podCidr: spec.podCidr,
        gateway,
        peers: spec.peers.map((p) => `${p.name}=${p.podCidr} via ${p.nodeIp}`),
      });
      o.onNetworkReady?.();
    }
    if (o.dns && gateway !== undefined) {
      const address = gateway;
      const served = await this.retrying("start the cluster DNS", async () => {
        const dns = new ClusterDns({
          client: o.client,
          informers: this.informers,
          address,
          port: DNS_PORT,
          onError: (e, what) => o.log.warn(what, { error: errorText(e) }),
        });
        try {
          await dns.start();
        } catch (e) {
          await dns.stop().catch(() => undefined);
          throw e;
        }
        this.dnsServer = dns;
      });
      if (!served) return;
      o.log.info("cluster DNS serving", { address: `${gateway}:${DNS_PORT}` });
    }
    if (o.proxy) {
      const prepared = await this.retrying(
        "set route_localnet and the localnet guard",
        async () => {
          await this.run(["sysctl", "-w", `${ROUTE_LOCALNET}=1`]);
          await installLocalnetGuard(this.run);
        },
      );
      if (!prepared) return;
      this.proxy = new ServiceProxy({
        client: o.client,
        informers: this.informers,
        run: this.run,
        clusterCidr: o.clusterCidr,
        ...(this.dnsServer !== undefined &&
          gateway !== undefined &&
          o.dnsClusterIp !== undefined && {
            localDns: { clusterIp: o.dnsClusterIp, address: gateway, port: DNS_PORT },
          }),
        onError: (e, what) => o.log.warn(what, { error: errorText(e) }),
      });
      await this.proxy.start();
      o.log.info("service proxy running", { clusterCidr: o.clusterCidr });
    }
  }

  /**
   * Runs `step` until it succeeds (every START_RETRY_MS, each failure logged) or the
   * networking is stopped; resolves whether it succeeded. A DNS port still held by an agent
   * that is exiting, or iptables briefly locked by another writer, must not leave the node
   * without DNS or Services for good.
   */
  private async retrying(what: string, step: () => Promise<void>): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      try {
        await step();
        return !this.stopped;
      } catch (e) {
        this.o.log.warn(`cannot ${what}; retrying`, {
          error: errorText(e),
          retryInMs: START_RETRY_MS,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, START_RETRY_MS));
    }
  }

  /**
   * Stops every part; with `cleanup`, removes the proxy's chains and the pod network's routes
   * and rules (the Docker network stays: `cleanupNodeNetworking` removes it once no container
   * uses it).
   */
  async stop(cleanup = false): Promise<void> {
    this.stopped = true;
    await this.proxy?.stop(cleanup);
    if (cleanup && this.proxy !== undefined) await removeLocalnetGuard(this.run);
    await this.dnsServer?.stop();
    await this.informers.stop();
    await this.network?.stop(cleanup);
  }
}

export interface CleanupOptions {
  nodeName: string;
  run?: HostCommand;
  dockerSocket?: string;
}

/**
 * Removes what the networking of `nodeName` added to this host, as kube-proxy's `--cleanup`
 * does, for a node that is going away (`tug down`): the service proxy's TUG- chains and jumps
 * (with TUG-FIREWALL, the localnet guard),
 * tug's routes and the pod network's chains, and the Docker network `tug-<node>` (which Docker
 * refuses to remove while a container still uses it: remove the node's containers first).
 * Safe to repeat. The chains and routes are per host: run it when every agent of the host goes.
 */
export async function cleanupNodeNetworking(o: CleanupOptions): Promise<void> {
  const run = o.run ?? hostCommand();
  await new IptablesProxier({ run }).cleanup();
  await removeLocalnetGuard(run);
  await new NodeNetwork(run).teardown();
  await removeDockerNetwork(podNetworkName(o.nodeName), o.dockerSocket ?? DEFAULT_DOCKER_SOCKET);
}
