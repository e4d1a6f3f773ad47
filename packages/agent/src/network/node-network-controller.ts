// Keeps this node's pod network in step with the cluster: watches Nodes, waits until node
// IPAM has given this node a podCIDR, makes sure the Docker bridge network exists, and
// re-applies routes and rules whenever a node joins, leaves or changes address (coalesced,
// MIN_SYNC_INTERVAL_MS apart, and every NETWORK_RESYNC_PERIOD_MS in case something flushed them).

import { type Node, NodeSchema } from "@tug/api";
import { type ApiClient, apiListerWatcher, SharedIndexInformer } from "@tug/client";
import { MIN_SYNC_INTERVAL_MS, SyncRunner } from "../proxy/iptables-proxier.js";
import { DEFAULT_DOCKER_SOCKET, ensureDockerNetwork } from "./docker-network.js";
import type { HostCommand } from "./host-command.js";
import {
  bridgeName,
  dockerNetworkConfig,
  gatewayIp,
  NodeNetwork,
  type NodeNetworkSpec,
  peersFromNodes,
} from "./node-network.js";

/** Routes and rules are rewritten this often even without a change (kube-proxy's 30 s). */
export const NETWORK_RESYNC_PERIOD_MS = 30_000;
/** New sandboxes' bridge ports get hairpin mode within this long (a pod reaching itself by ClusterIP). */
export const HAIRPIN_PERIOD_MS = 2_000;

export interface NodeNetworkControllerOptions {
  client: ApiClient;
  nodeName: string;
  /** The pod network, e.g. 10.244.0.0/16 (the controller manager's --cluster-cidr). */
  clusterCidr: string;
  run: HostCommand;
  /** Docker's socket; `false` skips the Docker network (tests, or a runtime that makes it). */
  dockerSocket?: string | false;
  onError?: (e: unknown, what: string) => void;
}

export class NodeNetworkController {
  readonly nodes: SharedIndexInformer<Node>;
  readonly network: NodeNetwork;
  private readonly runner: SyncRunner;
  private resync: NodeJS.Timeout | undefined;
  private hairpin: NodeJS.Timeout | undefined;
  private hairpinRunning = false;
  private applied: NodeNetworkSpec | undefined;
  /** Set by the periodic resync: apply even when the spec did not change. */
  private force = true;
  private readonly readyWaiters: ((spec: NodeNetworkSpec) => void)[] = [];

  constructor(private readonly o: NodeNetworkControllerOptions) {
    const onError = o.onError ?? (() => {});
    this.network = new NodeNetwork(o.run);
    this.nodes = new SharedIndexInformer<Node>({
      listerWatcher: apiListerWatcher(o.client, NodeSchema),
      name: "nodes",
      onError,
    });
    this.runner = new SyncRunner(
      () => this.sync(),
      MIN_SYNC_INTERVAL_MS,
      (e) => onError(e, "pod network sync"),
    );
    const changed = () => {
      if (this.nodes.hasSynced()) this.runner.request();
    };
    this.nodes.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  /** The spec last applied: this node's podCIDR, the cluster CIDR and the peers. */
  get spec(): NodeNetworkSpec | undefined {
    return this.applied;
  }

  private async sync(): Promise<void> {
    const nodes = this.nodes.getIndexer().list();
    const self = nodes.find((n) => n.metadata?.name === this.o.nodeName);
    const podCidr = self?.spec?.podCidr ?? "";
    if (podCidr === "") return; // node IPAM has not assigned one yet; the update will come
    const spec: NodeNetworkSpec = {
      nodeName: this.o.nodeName,
      podCidr,
      clusterCidr: this.o.clusterCidr,
      peers: peersFromNodes(nodes, this.o.nodeName),
    };
    // Node heartbeats update every Node every few seconds; only a changed spec (or the
    // periodic resync) touches the host.
    if (!this.force && JSON.stringify(spec) === JSON.stringify(this.applied)) return;
    this.force = false;
    if (this.o.dockerSocket !== false) {
      await ensureDockerNetwork(
        dockerNetworkConfig(spec),
        this.o.dockerSocket ?? DEFAULT_DOCKER_SOCKET,
      );
    }
    await this.network.apply(spec);
    this.applied = spec;
    for (const w of this.readyWaiters.splice(0)) w(spec);
  }

  /** Starts watching Nodes. */
  async start(): Promise<void> {
    void this.nodes.run();
    await this.nodes.waitForCacheSync();
    this.runner.request();
    this.resync = setInterval(() => {
      this.force = true;
      this.runner.request();
    }, NETWORK_RESYNC_PERIOD_MS);
    this.hairpin = setInterval(() => void this.hairpinPass(), HAIRPIN_PERIOD_MS);
  }

  /**
   * Resolves once the network has been applied with this node's podCIDR: then sandboxes may
   * be started, and `gatewayIp(spec.podCidr)` is where the cluster DNS listens.
   */
  ready(): Promise<NodeNetworkSpec> {
    if (this.applied !== undefined) return Promise.resolve(this.applied);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private async hairpinPass(): Promise<void> {
    if (this.applied === undefined || this.hairpinRunning) return;
    this.hairpinRunning = true;
    try {
      await this.network.enableHairpin(bridgeName(this.o.nodeName));
    } catch (e) {
      this.o.onError?.(e, "bridge hairpin mode");
    } finally {
      this.hairpinRunning = false;
    }
  }

  /** The bridge gateway address, once ready. */
  gateway(): string | undefined {
    return this.applied === undefined ? undefined : gatewayIp(this.applied.podCidr);
  }

  /** Stops watching; with `teardown`, removes routes and rules (the Docker network stays). */
  async stop(teardown = false): Promise<void> {
    if (this.resync !== undefined) clearInterval(this.resync);
    if (this.hairpin !== undefined) clearInterval(this.hairpin);
    await this.runner.stop();
    await this.nodes.stop();
    if (teardown) await this.network.teardown();
  }
}
