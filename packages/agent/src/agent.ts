// tug-agent: the node agent. Registers the Node and keeps its status and Lease fresh; follows
// the pods bound to this node with an informer; runs one serialized worker per pod uid that
// syncs the pod against the runtime (CRI only), writes its status back when it changed, and
// terminates and deletes it when asked to; relists the runtime every second to notice
// container exits (the kubelet's PLEG); adopts what exists on start; collects dead
// containers; serves the agent API.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type Pod, PodSchema, type Taint } from "@tug/api";
import {
  ApiClient,
  apiListerWatcher,
  isApiError,
  isDeletedFinalStateUnknown,
  SharedIndexInformer,
} from "@tug/client";
import { CriClient } from "@tug/cri-docker";
import { apiEventRecorder, type EventRecorder } from "./events/event-recorder.js";
import {
  CONTAINER_GC_PERIOD_MS,
  collectGarbage,
  MAX_DEAD_PER_CONTAINER,
} from "./gc/container-gc.js";
import { errorText, jsonLogger, type Logger } from "./log.js";
import { type NetworkMode, NodeNetworking } from "./network/node-networking.js";
import { defaultNodeIp, hostName } from "./node/host-facts.js";
import {
  NODE_LEASE_DURATION_SECONDS,
  NODE_LEASE_RENEW_MS,
  NODE_STATUS_UPDATE_MS,
  NodeHeartbeat,
} from "./node/node-heartbeat.js";
import {
  type NodeIdentity,
  nodeAllocatable,
  nodeCapacity,
  type RuntimeHealth,
} from "./node/node-object.js";
import { INITIAL_BACK_OFF_MS, MAX_BACK_OFF_MS, RestartBackOff } from "./pods/back-off.js";
import { apiConfigSources } from "./pods/config-sources.js";
import { computePodStatus, type PodStatusInput } from "./pods/pod-status.js";
import { DEFAULT_GRACE_SECONDS, PodSyncer } from "./pods/pod-syncer.js";
import { PodWorkers } from "./pods/pod-workers.js";
import { StatusManager } from "./pods/status-manager.js";
import { ProbeManager } from "./probes/probe-manager.js";
import { POD_LABEL } from "./runtime/pod-labels.js";
import { defaultPodNetwork, type PodNetwork } from "./runtime/pod-network.js";
import { listContainers, listSandboxes, type readRuntimePod } from "./runtime/runtime-pod.js";
import { AgentServer } from "./server/agent-server.js";
import { VolumeManager } from "./volumes/volume-manager.js";

/** The kubelet's message for a pod past its activeDeadlineSeconds. */
export const ACTIVE_DEADLINE_MESSAGE =
  "Pod was active on the node longer than the specified deadline";

function timestampMs(t: Timestamp): number {
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}

/** The default --root-dir parent; the node's name is appended. */
export const DEFAULT_ROOT_DIR = "/var/lib/tug-agent";
/** The default agent API port (the kubelet's 10250). */
export const DEFAULT_AGENT_PORT = 10250;
/** The default --max-pods (the kubelet's 110). */
export const DEFAULT_MAX_PODS = 110;
/** How often the runtime is relisted for container changes (the kubelet's PLEG relist period, 1 s). */
export const RELIST_PERIOD_MS = 1_000;
/** How often every pod is synced even without a change (the kubelet's --sync-frequency is 1 min; 10 s keeps configMap volumes fresh sooner). */
export const RESYNC_PERIOD_MS = 10_000;

export interface AgentOptions {
  nodeName?: string;
  /** tug-apiserver addresses. */
  servers: readonly string[];
  /** CRI endpoint, unix:///run/tug/cri-docker.sock. */
  runtimeEndpoint: string;
  /** Default /var/lib/tug-agent/<node>. */
  rootDir?: string;
  /** Agent API listen address and port; port 0 picks a free one. Default 0.0.0.0:10250. */
  address?: string;
  port?: number;
  /** InternalIP; default the first non-internal IPv4 address. */
  nodeIp?: string;
  nodeLabels?: Readonly<Record<string, string>>;
  role?: string;
  registerWithTaints?: readonly Taint[];
  maxPods?: number;
  reserved?: Readonly<Record<string, string>>;
  nodeStatusUpdateMs?: number;
  nodeLeaseRenewMs?: number;
  nodeLeaseDurationSeconds?: number;
  maxDeadContainersPerContainer?: number;
  containerGcPeriodMs?: number;
  initialBackOffMs?: number;
  maxBackOffMs?: number;
  clusterDns?: readonly string[];
  clusterDomain?: string;
  network?: PodNetwork;
  /**
   * The node's networking (docs/networking.md): pod network, cluster DNS, service proxy.
   * Absent: none of them; pods get whatever network the runtime gives.
   */
  networking?: AgentNetworking;
  log?: Logger;
}

/** The agent's --network-mode, --cluster-cidr, --proxy and --dns. */
export interface AgentNetworking {
  mode: NetworkMode;
  clusterCidr: string;
  proxy: boolean;
  dns: boolean;
  /** Docker's socket, where the node's bridge network is made. Default /var/run/docker.sock. */
  dockerSocket?: string;
}

export class Agent {
  readonly nodeName: string;
  readonly rootDir: string;
  readonly client: ApiClient;
  readonly runtime: CriClient;
  private readonly log: Logger;
  private readonly informer: SharedIndexInformer<Pod>;
  private readonly podsByUid = new Map<string, Pod>();
  /** The last state of pods deleted from the API, for their grace period and hooks. */
  private readonly gonePods = new Map<string, Pod>();
  private readonly workers: PodWorkers;
  private readonly syncer: PodSyncer;
  private readonly probes: ProbeManager;
  private readonly events: EventRecorder;
  private readonly statuses: StatusManager;
  private readonly heartbeat: NodeHeartbeat;
  private readonly server: AgentServer;
  private readonly identity: NodeIdentity;
  private readonly networking: NodeNetworking | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastSeen = new Map<string, string>();
  private informerRun: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private boundPort = 0;
  private readonly metricsCounters = {
    syncs: 0,
    syncErrors: 0,
    containersStarted: 0,
    gcContainers: 0,
    gcSandboxes: 0,
  };

  constructor(private readonly o: AgentOptions) {
    this.nodeName = (o.nodeName ?? hostName()).toLowerCase();
    this.rootDir = o.rootDir ?? join(DEFAULT_ROOT_DIR, this.nodeName);
    this.log = o.log ?? jsonLogger("tug-agent");
    this.client = new ApiClient({ servers: o.servers });
    this.runtime = new CriClient(o.runtimeEndpoint);
    this.identity = {
      name: this.nodeName,
      nodeIp: o.nodeIp ?? defaultNodeIp(),
      port: o.port ?? DEFAULT_AGENT_PORT,
      maxPods: o.maxPods ?? DEFAULT_MAX_PODS,
      rootDir: this.rootDir,
      ...(o.role !== undefined && { role: o.role }),
      labels: o.nodeLabels ?? {},
      taints: o.registerWithTaints ?? [],
      reserved: o.reserved ?? {},
      runtimeVersion: "",
    };
    this.informer = new SharedIndexInformer<Pod>({
      listerWatcher: apiListerWatcher(this.client, PodSchema, {
        fieldSelector: `spec.nodeName=${this.nodeName}`,
      }),
      name: "pods",
      onError: (e, what) => this.log.warn(what, { error: errorText(e) }),
    });
    this.events = apiEventRecorder(this.client, this.nodeName, this.log);
    this.probes = new ProbeManager(
      this.runtime,
      (uid) => this.workers.enqueue(uid),
      (subject, type, message) => {
        const pod = this.podsByUid.get(subject.podUid);
        const what =
          type === "liveness" ? "Liveness" : type === "readiness" ? "Readiness" : "Startup";
        if (pod !== undefined) {
          this.events.pod(
            pod,
            "Warning",
            "Unhealthy",
            `${what} probe failed: ${message.trim()}`,
            subject.container.name,
          );
        }
      },
    );
    this.statuses = new StatusManager(this.client);
    const sources = apiConfigSources(this.client);
    this.syncer = new PodSyncer({
      node: this.nodeName,
      runtime: this.runtime,
      network: o.network ?? defaultPodNetwork,
      volumes: new VolumeManager(this.rootDir, sources),
      sources,
      probes: this.probes,
      backOff: new RestartBackOff(
        o.initialBackOffMs ?? INITIAL_BACK_OFF_MS,
        o.maxBackOffMs ?? MAX_BACK_OFF_MS,
      ),
      pullBackOff: new RestartBackOff(
        o.initialBackOffMs ?? INITIAL_BACK_OFF_MS,
        o.maxBackOffMs ?? MAX_BACK_OFF_MS,
      ),
      rootDir: this.rootDir,
      podLogsDir: join(this.rootDir, "pod-logs"),
      hostIp: () => this.identity.nodeIp,
      allocatable: () => nodeAllocatable(nodeCapacity(this.identity), this.identity.reserved),
      clusterDns: o.clusterDns ?? [],
      clusterDomain: o.clusterDomain ?? "cluster.local",
      log: this.log,
      events: this.events,
      onContainerStarted: () => this.metricsCounters.containersStarted++,
    });
    this.workers = new PodWorkers(
      (uid) => this.syncPod(uid),
      (uid, e) => {
        this.metricsCounters.syncErrors++;
        this.log.warn("pod sync failed", { uid, error: errorText(e) });
      },
    );
    this.heartbeat = new NodeHeartbeat({
      client: this.client,
      identity: this.identity,
      health: () => this.runtimeHealth(),
      statusUpdateMs: o.nodeStatusUpdateMs ?? NODE_STATUS_UPDATE_MS,
      leaseRenewMs: o.nodeLeaseRenewMs ?? NODE_LEASE_RENEW_MS,
      leaseDurationSeconds: o.nodeLeaseDurationSeconds ?? NODE_LEASE_DURATION_SECONDS,
      log: this.log,
    });
    const net = o.networking;
    if (net !== undefined && (net.mode !== "none" || net.proxy)) {
      this.networking = new NodeNetworking({
        client: this.client,
        nodeName: this.nodeName,
        clusterCidr: net.clusterCidr,
        mode: net.mode,
        proxy: net.proxy,
        dns: net.dns,
        ...(o.clusterDns?.[0] !== undefined && { dnsClusterIp: o.clusterDns[0] }),
        ...(net.dockerSocket !== undefined && { dockerSocket: net.dockerSocket }),
        // NetworkUnavailable turns False now rather than at the next status update.
        onNetworkReady: () =>
          void this.heartbeat
            .updateStatus()
            .catch((e: unknown) =>
              this.log.warn("node status update failed", { error: errorText(e) }),
            ),
        log: this.log,
      });
    }
    this.server = new AgentServer({
      node: this.nodeName,
      runtime: this.runtime,
      findPod: (ns, name) => this.informer.getIndexer().getByKey(`${ns}/${name}`),
      metrics: () => this.metrics(),
      ready: () => this.started && this.informer.hasSynced(),
      log: this.log,
    });
  }

  /** The port the agent API listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** Starts everything; resolves once the node is registered and pods are being synced. */
  async start(): Promise<void> {
    mkdirSync(this.rootDir, { recursive: true });
    await this.runtime.waitForReady(30_000);
    const v = await this.runtime.runtime.version({ version: "v1" });
    this.identity.runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    this.boundPort = await this.server.listen(
      this.o.address ?? "0.0.0.0",
      this.o.port ?? DEFAULT_AGENT_PORT,
    );
    this.identity.port = this.boundPort;
    await this.heartbeat.register();
    this.heartbeat.start();
    // In the background: the pod network needs the podCIDR node IPAM gives the Node just
    // registered; until it exists the runtime reports NetworkReady=false and the Node is not Ready.
    this.networking?.start();
    this.informer.addEventHandler({
      onAdd: (pod) => this.observe(pod),
      onUpdate: (_old, pod) => this.observe(pod),
      onDelete: (obj) => {
        const pod = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        const uid = pod.metadata?.uid ?? "";
        this.podsByUid.delete(uid);
        this.gonePods.set(uid, pod);
        this.workers.enqueue(uid);
      },
    });
    this.informerRun = this.informer.run();
    if (!(await this.informer.waitForCacheSync()))
      throw new Error("the pod informer stopped before it synced");
    await this.adopt();
    this.every(RELIST_PERIOD_MS, () => this.relist());
    this.every(RESYNC_PERIOD_MS, async () => {
      for (const uid of this.podsByUid.keys()) this.workers.enqueue(uid);
    });
    this.every(this.o.containerGcPeriodMs ?? CONTAINER_GC_PERIOD_MS, async () => {
      const r = await collectGarbage(
        this.runtime,
        this.nodeName,
        this.o.maxDeadContainersPerContainer ?? MAX_DEAD_PER_CONTAINER,
      );
      this.metricsCounters.gcContainers += r.containers;
      this.metricsCounters.gcSandboxes += r.sandboxes;
    });
    this.started = true;
    this.log.info("tug-agent started", {
      node: this.nodeName,
      port: this.boundPort,
      rootDir: this.rootDir,
    });
  }

  private observe(pod: Pod): void {
    const uid = pod.metadata?.uid ?? "";
    this.podsByUid.set(uid, pod);
    this.workers.enqueue(uid);
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (this.stopped) return;
      fn()
        .catch((e: unknown) => this.log.warn("periodic task failed", { error: errorText(e) }))
        .finally(() => {
          if (!this.stopped) this.timers.push(setTimeout(tick, ms));
        });
    };
    this.timers.push(setTimeout(tick, ms));
  }

  /**
   * Adoption on start: every pod with something in the runtime gets a sync — pods still bound
   * here continue with what exists, pods that are gone are stopped and removed.
   */
  private async adopt(): Promise<void> {
    const uids = new Set<string>();
    for (const s of await listSandboxes(this.runtime, this.nodeName))
      uids.add(s.labels[POD_LABEL.podUid] ?? "");
    for (const c of await listContainers(this.runtime, this.nodeName))
      uids.add(c.labels[POD_LABEL.podUid] ?? "");
    uids.delete("");
    for (const uid of uids) this.workers.enqueue(uid);
    await this.relist();
  }

  /** The runtime relist: a pod whose containers or sandboxes changed state gets a sync. */
  private async relist(): Promise<void> {
    const seen = new Map<string, string>();
    const podOf = new Map<string, string>();
    for (const s of await listSandboxes(this.runtime, this.nodeName)) {
      seen.set(s.id, String(s.state));
      podOf.set(s.id, s.labels[POD_LABEL.podUid] ?? "");
    }
    for (const c of await listContainers(this.runtime, this.nodeName)) {
      seen.set(c.id, String(c.state));
      podOf.set(c.id, c.labels[POD_LABEL.podUid] ?? "");
    }
    const changed = new Set<string>();
    for (const [id, state] of seen)
      if (this.lastSeen.get(id) !== state) changed.add(podOf.get(id) ?? "");
    for (const id of this.lastSeen.keys()) if (!seen.has(id)) changed.add(podOf.get(id) ?? "");
    this.lastSeen = seen;
    changed.delete("");
    for (const uid of changed) this.workers.enqueue(uid);
  }

  /** One pod worker step; returns when to run again. */
  private async syncPod(uid: string): Promise<number | undefined> {
    this.metricsCounters.syncs++;
    const pod = this.podsByUid.get(uid);
    if (pod === undefined) {
      // Gone from the API (or never ours): stop and remove whatever the runtime holds.
      const ref = await this.refFromRuntime(uid);
      if (ref !== undefined) {
        // The last known pod (if the informer saw it go) gives the grace period and preStop.
        await this.syncer.terminate(ref, this.gonePods.get(uid));
        await this.syncer.remove(ref);
        this.log.info("removed pod that is gone", { uid, pod: `${ref.namespace}/${ref.name}` });
      }
      this.gonePods.delete(uid);
      this.statuses.forget(uid);
      this.workers.forget(uid);
      return undefined;
    }
    const ref = { uid, name: pod.metadata?.name ?? "", namespace: pod.metadata?.namespace ?? "" };
    if (pod.metadata?.deletionTimestamp !== undefined) {
      const rp = await this.syncer.terminate(ref, pod);
      await this.writeStatus(pod, rp, undefined, "");
      try {
        await this.client.delete(PodSchema, ref.name, {
          namespace: ref.namespace,
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
        this.log.info("deleted terminated pod", { pod: `${ref.namespace}/${ref.name}` });
      } catch (e) {
        if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) throw e;
      }
      return undefined;
    }
    const phase = pod.status?.phase ?? "";
    if (phase === "Succeeded" || phase === "Failed") {
      // Terminal: nothing restarts; the sandbox is stopped (the containers stay for logs).
      await this.syncer.terminate(ref, pod, DEFAULT_GRACE_SECONDS);
      return undefined;
    }
    const deadline = pod.spec?.activeDeadlineSeconds;
    const started = pod.status?.startTime;
    if (
      deadline !== undefined &&
      started !== undefined &&
      timestampMs(started) + deadline * 1000 <= Date.now()
    ) {
      // The kubelet's activeDeadlineHandler: kill everything, fail the pod.
      this.events.pod(pod, "Normal", "DeadlineExceeded", ACTIVE_DEADLINE_MESSAGE);
      const rp = await this.syncer.terminate(ref, pod);
      await this.writeStatus(pod, rp, undefined, "", undefined, {
        phase: "Failed",
        reason: "DeadlineExceeded",
        message: ACTIVE_DEADLINE_MESSAGE,
      });
      return undefined;
    }
    const result = await this.syncer.sync(pod);
    const status = await this.writeStatus(
      pod,
      result.runtime,
      result.sandboxId,
      result.podIp,
      result.waiting,
    );
    if (status === "Succeeded" || status === "Failed") {
      // Re-sync right away: the terminal branch stops the sandbox once the API has the phase.
      return 500;
    }
    if (deadline !== undefined && started !== undefined) {
      const left = timestampMs(started) + deadline * 1000 - Date.now();
      return Math.min(result.requeueAfterMs ?? left, left);
    }
    return result.requeueAfterMs;
  }

  private async writeStatus(
    pod: Pod,
    rp: Awaited<ReturnType<typeof readRuntimePod>>,
    sandboxId: string | undefined,
    podIp: string,
    waiting = new Map<string, { reason: string; message: string }>(),
    end?: PodStatusInput["end"],
  ): Promise<string> {
    const status = computePodStatus({
      pod,
      runtime: rp,
      sandboxId,
      podIp,
      hostIp: this.identity.nodeIp,
      waiting,
      probes: this.probes,
      nowMs: Date.now(),
      ...(end !== undefined && { end }),
    });
    await this.statuses.update(pod, status);
    return status.phase;
  }

  /** A pod's name and namespace from its runtime labels, when only the uid is known. */
  private async refFromRuntime(
    uid: string,
  ): Promise<{ uid: string; name: string; namespace: string } | undefined> {
    const sandboxes = await listSandboxes(this.runtime, this.nodeName, uid);
    const containers = await listContainers(this.runtime, this.nodeName, uid);
    const labels = sandboxes[0]?.labels ?? containers[0]?.labels;
    if (labels === undefined) return undefined;
    return {
      uid,
      name: labels[POD_LABEL.podName] ?? "",
      namespace: labels[POD_LABEL.podNamespace] ?? "",
    };
  }

  private async runtimeHealth(): Promise<RuntimeHealth> {
    const network =
      this.o.networking?.mode === "bridge" && this.networking !== undefined
        ? { podNetworkReady: this.networking.ready }
        : {};
    return { ...(await this.criHealth()), ...network };
  }

  private async criHealth(): Promise<RuntimeHealth> {
    try {
      const st = await this.runtime.runtime.status({}, { timeoutMs: 5_000 });
      const bad = (st.status?.conditions ?? []).filter((c) => !c.status);
      return bad.length === 0
        ? { runtimeReady: true, runtimeMessage: "" }
        : {
            runtimeReady: false,
            runtimeMessage: bad
              .map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`)
              .join("; "),
          };
    } catch (e) {
      return { runtimeReady: false, runtimeMessage: errorText(e) };
    }
  }

  private metrics(): string {
    const m = this.metricsCounters;
    const lines = [
      "# HELP tug_agent_pod_syncs_total Pod worker syncs run.",
      "# TYPE tug_agent_pod_syncs_total counter",
      `tug_agent_pod_syncs_total ${m.syncs}`,
      "# HELP tug_agent_pod_sync_errors_total Pod worker syncs that failed.",
      "# TYPE tug_agent_pod_sync_errors_total counter",
      `tug_agent_pod_sync_errors_total ${m.syncErrors}`,
      "# HELP tug_agent_containers_started_total Containers started.",
      "# TYPE tug_agent_containers_started_total counter",
      `tug_agent_containers_started_total ${m.containersStarted}`,
      "# HELP tug_agent_pods Pods bound to this node.",
      "# TYPE tug_agent_pods gauge",
      `tug_agent_pods ${this.podsByUid.size}`,
      "# HELP tug_agent_pod_status_writes_total Pod status updates sent.",
      "# TYPE tug_agent_pod_status_writes_total counter",
      `tug_agent_pod_status_writes_total ${this.statuses.writes}`,
      "# HELP tug_agent_node_status_updates_total Node status updates sent.",
      "# TYPE tug_agent_node_status_updates_total counter",
      `tug_agent_node_status_updates_total ${this.heartbeat.statusUpdates}`,
      "# HELP tug_agent_node_lease_renewals_total Node lease renewals.",
      "# TYPE tug_agent_node_lease_renewals_total counter",
      `tug_agent_node_lease_renewals_total ${this.heartbeat.leaseRenewals}`,
      "# HELP tug_agent_gc_removed_total Dead containers and sandboxes removed by GC.",
      "# TYPE tug_agent_gc_removed_total counter",
      `tug_agent_gc_removed_total{kind="container"} ${m.gcContainers}`,
      `tug_agent_gc_removed_total{kind="sandbox"} ${m.gcSandboxes}`,
    ];
    return `${lines.join("\n")}\n`;
  }

  /**
   * Stops the agent and leaves the containers running (a restarted agent adopts them), as the
   * kubelet does when it exits; the service rules and routes stay too, as kube-proxy leaves
   * them, unless `cleanupNetwork` (then they are removed: docs/networking.md).
   */
  async stop(cleanupNetwork = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await this.networking?.stop(cleanupNetwork).catch((e: unknown) => {
      this.log.warn("stopping the node networking failed", { error: errorText(e) });
    });
    await this.heartbeat.stop();
    await this.informer.stop().catch(() => undefined);
    await this.informerRun?.catch(() => undefined);
    await this.workers.stop();
    this.probes.stopAll();
    await this.server.close();
    this.runtime.close();
    this.client.close();
  }
}
