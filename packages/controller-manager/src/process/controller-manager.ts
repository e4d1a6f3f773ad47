// tug-controller-manager's core: while this instance leads (a coordination/v1 Lease,
// kube-system/kube-controller-manager by default), shared informers feed the enabled
// controllers; when leadership ends, the controllers and informers stop. Each leadership term
// starts from fresh caches, so a new leader acts only on what it has listed itself.

import type { KeyObject } from "node:crypto";
import { hostname } from "node:os";
import {
  ControllerRevisionSchema,
  CronJobSchema,
  DaemonSetSchema,
  type Deployment,
  DeploymentSchema,
  EndpointsSchema,
  JobSchema,
  LeaseSchema,
  NamespaceSchema,
  NodeSchema,
  PersistentVolumeClaimSchema,
  PersistentVolumeSchema,
  type Pod,
  PodSchema,
  type ReplicaSet,
  ReplicaSetSchema,
  ResourceQuotaSchema,
  SecretSchema,
  ServiceAccountSchema,
  ServiceSchema,
  StatefulSetSchema,
} from "@tug/api";
import {
  ApiClient,
  apiLeaseClient,
  apiListerWatcher,
  type CacheObject,
  type KindArg,
  kindInfoOf,
  LEASE_DURATION_MS,
  LeaderElector,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
  type ObjectOf,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
  type SharedIndexInformer,
  SharedInformerFactory,
} from "@tug/client";
import { type Logger, silentLogger } from "@tug/daemon";
import { CronJobController } from "../cronjob/cronjob-controller.js";
import { DaemonSetController } from "../daemonset/daemon-set-controller.js";
import { DeploymentController } from "../deployment/deployment-controller.js";
import { EndpointsController } from "../endpoints/endpoints-controller.js";
import { type Controller, runController } from "../framework/controller.js";
import { ApiEventRecorder } from "../framework/event-recorder.js";
import { ApiPodControl } from "../framework/pod-control.js";
import { GarbageCollector, informerKey } from "../garbagecollector/garbage-collector.js";
import { JobController } from "../job/job-controller.js";
import { NamespaceController } from "../namespace/namespace-controller.js";
import { NodeIpamController } from "../nodeipam/node-ipam-controller.js";
import {
  NodeLifecycleController,
  type NodeLifecycleControllerOptions,
} from "../nodelifecycle/node-lifecycle-controller.js";
import { TaintEvictionController } from "../nodelifecycle/taint-eviction-controller.js";
import { ReplicaSetController } from "../replicaset/replica-set-controller.js";
import { ResourceQuotaController } from "../resourcequota/resource-quota-controller.js";
import { ServiceAccountsController } from "../serviceaccount/service-accounts-controller.js";
import { TokensController } from "../serviceaccount/tokens-controller.js";
import { StatefulSetController } from "../statefulset/stateful-set-controller.js";
import { TtlAfterFinishedController } from "../ttlafterfinished/ttl-after-finished-controller.js";
import { PersistentVolumeBinder } from "../volumebinding/persistent-volume-binder.js";

/** Controllers this process can run, by their --controllers name. */
export const KNOWN_CONTROLLERS = [
  "replicaset",
  "deployment",
  "daemonset",
  "statefulset",
  "job",
  "cronjob",
  "ttl-after-finished",
  "nodelifecycle",
  "taint-eviction-controller",
  "nodeipam",
  "endpoint",
  "serviceaccount",
  "namespace",
  "garbagecollector",
  "resourcequota",
  "persistentvolume-binder",
  "serviceaccount-token",
] as const;
export type ControllerName = (typeof KNOWN_CONTROLLERS)[number];

/** kube-controller-manager's lock: the Lease kube-system/kube-controller-manager. */
export const DEFAULT_LEASE_NAMESPACE = "kube-system";
export const DEFAULT_LEASE_NAME = "kube-controller-manager";
/** kube-controller-manager's --concurrent-deployment-syncs and --concurrent-replicaset-syncs. */
export const DEFAULT_CONCURRENT_SYNCS = 5;

export interface ControllerManagerOptions {
  /** tug-apiserver addresses. */
  readonly servers: readonly string[];
  /** Controllers to run; default all. */
  readonly controllers?: readonly ControllerName[];
  readonly leaderElect?: boolean;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  /** This instance's identity in the Lease; default `<hostname>_<random>`. */
  readonly identity?: string;
  readonly concurrentDeploymentSyncs?: number;
  readonly concurrentReplicaSetSyncs?: number;
  /** Workers of the other controllers, by name (--concurrent-job-syncs, ...); default 5 each. */
  readonly concurrentSyncs?: Partial<Record<ControllerName, number>>;
  /** Timings and ranges of the cluster controllers (node lifecycle, IPAM, quota, volumes). */
  readonly cluster?: ClusterControllerSettings;
  readonly logger?: Logger;
  /**
   * Called when leadership is lost (not when stopped); kube-controller-manager exits then. Without
   * it the instance campaigns again, from fresh caches.
   */
  readonly onLeadershipLost?: () => void;
}

/**
 * kube-controller-manager's flags for the cluster controllers; each unset one takes the
 * controller's Kubernetes default (NODE_MONITOR_GRACE_PERIOD_MS, DEFAULT_CLUSTER_CIDR, ...).
 */
export type ClusterControllerSettings = Pick<
  NodeLifecycleControllerOptions,
  | "nodeMonitorPeriodMs"
  | "nodeMonitorGracePeriodMs"
  | "nodeStartupGracePeriodMs"
  | "nodeEvictionRate"
  | "secondaryNodeEvictionRate"
  | "largeClusterSizeThreshold"
  | "unhealthyZoneThreshold"
> & {
  readonly clusterCidr?: string;
  readonly nodeCidrMaskSize?: number;
  readonly resourceQuotaSyncPeriodMs?: number;
  readonly pvClaimBinderSyncPeriodMs?: number;
  /** --service-account-private-key-file, loaded; without it "serviceaccount-token" does not run. */
  readonly serviceAccountSigningKey?: KeyObject;
  /** --root-ca-file's content, for token Secrets' ca.crt. */
  readonly rootCa?: Uint8Array;
};

/** Counters for /metrics. */
export interface ControllerManagerStats {
  leading: boolean;
  terms: number;
  readonly reconciles: Map<string, number>;
  readonly reconcileErrors: Map<string, number>;
}

export class ControllerManager {
  readonly identity: string;
  readonly stats: ControllerManagerStats = {
    leading: false,
    terms: 0,
    reconciles: new Map(),
    reconcileErrors: new Map(),
  };
  private readonly api: ApiClient;
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;
  private readonly logger: Logger;
  private term: Promise<void> | undefined;
  private synced = false;

  constructor(private readonly options: ControllerManagerOptions) {
    this.identity = options.identity ?? `${hostname()}_${Math.random().toString(36).slice(2, 10)}`;
    this.api = new ApiClient({ servers: options.servers });
    this.logger = options.logger ?? silentLogger;
  }

  /** Starts campaigning (or, without leader election, the controllers at once). */
  start(): void {
    if (this.running !== undefined) throw new Error("controller manager already started");
    const signal = this.stopper.signal;
    if (this.options.leaderElect === false) {
      this.term = this.lead(signal);
      this.running = this.term;
      return;
    }
    this.running = this.campaign(signal);
  }

  /**
   * Campaigns and leads, term after term. A term that ends without `signal` (leadership lost)
   * ends the process's work when onLeadershipLost is set (kube-controller-manager exits then);
   * otherwise this instance campaigns again with a fresh elector.
   */
  private async campaign(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let lost = false;
      const elector = new LeaderElector({
        lease: apiLeaseClient(
          this.api,
          this.options.leaseNamespace ?? DEFAULT_LEASE_NAMESPACE,
          this.options.leaseName ?? DEFAULT_LEASE_NAME,
        ),
        identity: this.identity,
        leaseDurationMs: this.options.leaseDurationMs ?? LEASE_DURATION_MS,
        renewDeadlineMs: this.options.renewDeadlineMs ?? RENEW_DEADLINE_MS,
        retryPeriodMs: this.options.retryPeriodMs ?? RETRY_PERIOD_MS,
        callbacks: {
          onStartedLeading: (leading) => {
            this.logger.info("started leading", { identity: this.identity });
            this.term = this.lead(leading);
          },
          onStoppedLeading: () => {
            this.logger.info("stopped leading", { identity: this.identity });
            lost = !signal.aborted;
          },
          onNewLeader: (leader) => {
            if (leader !== this.identity) this.logger.info("new leader observed", { leader });
          },
        },
        onError: (error, context) => this.logger.warn(context, { error }),
      });
      await elector.run(signal);
      await this.term;
      if (lost && this.options.onLeadershipLost !== undefined) {
        this.options.onLeadershipLost();
        return;
      }
    }
  }

  /** True while this instance runs controllers. */
  isLeading(): boolean {
    return this.stats.leading;
  }

  /** True once the controllers of the current term have synced caches (for /readyz). */
  isSynced(): boolean {
    return this.synced;
  }

  /** Stops the controllers (in-flight reconciles finish) and leader election; idempotent. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
    this.api.close();
  }

  /** One leadership term: informers and controllers until `signal` aborts. */
  private async lead(signal: AbortSignal): Promise<void> {
    this.stats.leading = true;
    this.stats.terms++;
    const factory = new SharedInformerFactory({
      onError: (error, context) => this.logger.warn(context, { error }),
    });
    const indexers = { [NAMESPACE_INDEX]: metaNamespaceIndexFunc };
    const pods = factory.informerFor<Pod>({
      key: "v1/pods",
      newListerWatcher: () => apiListerWatcher(this.api, PodSchema),
      indexers,
    });
    const replicaSets = factory.informerFor<ReplicaSet>({
      key: "apps/v1/replicasets",
      newListerWatcher: () => apiListerWatcher(this.api, ReplicaSetSchema),
      indexers,
    });
    const deployments = factory.informerFor<Deployment>({
      key: "apps/v1/deployments",
      newListerWatcher: () => apiListerWatcher(this.api, DeploymentSchema),
      indexers,
    });
    const enabled = new Set(this.options.controllers ?? KNOWN_CONTROLLERS);
    const controllers: { controller: Controller; workers: number }[] = [];
    const host = hostname();
    if (enabled.has("replicaset")) {
      const recorder = new ApiEventRecorder({
        api: this.api,
        component: "replicaset-controller",
        host,
        onError: (error, context) => this.logger.warn(context, { error }),
      });
      controllers.push({
        controller: new ReplicaSetController({
          api: this.api,
          replicaSets,
          pods,
          podControl: new ApiPodControl(this.api, recorder),
          recorder,
          signal,
        }),
        workers: this.options.concurrentReplicaSetSyncs ?? DEFAULT_CONCURRENT_SYNCS,
      });
    }
    if (enabled.has("deployment")) {
      controllers.push({
        controller: new DeploymentController({
          api: this.api,
          deployments,
          replicaSets,
          pods,
          recorder: new ApiEventRecorder({
            api: this.api,
            component: "deployment-controller",
            host,
            onError: (error, context) => this.logger.warn(context, { error }),
          }),
        }),
        workers: this.options.concurrentDeploymentSyncs ?? DEFAULT_CONCURRENT_SYNCS,
      });
    }
    controllers.push(...this.clusterControllers(factory, pods, enabled, host));
    factory.start();
    void factory.waitForCacheSync(signal).then((synced) => {
      this.synced = [...synced.values()].every(Boolean) && !signal.aborted;
    });
    try {
      await Promise.all(
        controllers.map(({ controller, workers }) =>
          runController(controller, {
            workers,
            signal,
            onError: (key, error) => {
              this.count(this.stats.reconcileErrors, controller.name);
              this.logger.warn("reconcile failed", { controller: controller.name, key, error });
            },
            onReconciled: () => this.count(this.stats.reconciles, controller.name),
          }),
        ),
      );
    } finally {
      await factory.shutdown();
      this.synced = false;
      this.stats.leading = false;
    }
  }

  /** The enabled controllers of the cluster's own objects: nodes, namespaces, ownership, storage. */
  private clusterControllers(
    factory: SharedInformerFactory,
    pods: SharedIndexInformer<Pod>,
    enabled: ReadonlySet<ControllerName>,
    host: string,
  ): { controller: Controller; workers: number }[] {
    const api = this.api;
    const settings = this.options.cluster ?? {};
    const inform = <K extends KindArg>(kind: K) =>
      factory.informerFor<ObjectOf<K> & CacheObject>({
        key: informerKey(kindInfoOf(kind)),
        newListerWatcher: () => apiListerWatcher(api, kind),
      });
    const recorder = (component: string) =>
      new ApiEventRecorder({
        api,
        component,
        host,
        onError: (error, context) => this.logger.warn(context, { error }),
      });
    const build: Record<string, () => Controller> = {
      nodelifecycle: () =>
        new NodeLifecycleController({
          ...settings,
          api,
          nodes: inform(NodeSchema),
          leases: inform(LeaseSchema),
          pods,
          recorder: recorder("node-controller"),
        }),
      "taint-eviction-controller": () =>
        new TaintEvictionController({
          api,
          nodes: inform(NodeSchema),
          pods,
          recorder: recorder("taint-eviction-controller"),
        }),
      nodeipam: () =>
        new NodeIpamController({
          api,
          nodes: inform(NodeSchema),
          recorder: recorder("cidrAllocator"),
          ...(settings.clusterCidr === undefined ? {} : { clusterCidr: settings.clusterCidr }),
          ...(settings.nodeCidrMaskSize === undefined
            ? {}
            : { nodeCidrMaskSize: settings.nodeCidrMaskSize }),
        }),
      endpoint: () =>
        new EndpointsController({
          api,
          services: inform(ServiceSchema),
          pods,
          endpoints: inform(EndpointsSchema),
        }),
      serviceaccount: () =>
        new ServiceAccountsController({
          api,
          namespaces: inform(NamespaceSchema),
          serviceAccounts: inform(ServiceAccountSchema),
        }),
      namespace: () => new NamespaceController({ api, namespaces: inform(NamespaceSchema) }),
      daemonset: () => {
        const events = recorder("daemonset-controller");
        return new DaemonSetController({
          api,
          daemonSets: inform(DaemonSetSchema),
          nodes: inform(NodeSchema),
          pods,
          revisions: inform(ControllerRevisionSchema),
          podControl: new ApiPodControl(api, events),
          recorder: events,
        });
      },
      statefulset: () =>
        new StatefulSetController({
          api,
          statefulSets: inform(StatefulSetSchema),
          pods,
          claims: inform(PersistentVolumeClaimSchema),
          revisions: inform(ControllerRevisionSchema),
          recorder: recorder("statefulset-controller"),
        }),
      job: () => {
        const events = recorder("job-controller");
        return new JobController({
          api,
          jobs: inform(JobSchema),
          pods,
          podControl: new ApiPodControl(api, events),
          recorder: events,
        });
      },
      cronjob: () =>
        new CronJobController({
          api,
          cronJobs: inform(CronJobSchema),
          jobs: inform(JobSchema),
          recorder: recorder("cronjob-controller"),
        }),
      "ttl-after-finished": () => new TtlAfterFinishedController({ api, jobs: inform(JobSchema) }),
      garbagecollector: () => new GarbageCollector({ api, factory, client: api }),
      resourcequota: () =>
        new ResourceQuotaController({
          api,
          quotas: inform(ResourceQuotaSchema),
          pods,
          replenishWith: [inform(ServiceSchema), inform(PersistentVolumeClaimSchema)],
          ...(settings.resourceQuotaSyncPeriodMs === undefined
            ? {}
            : { syncPeriodMs: settings.resourceQuotaSyncPeriodMs }),
        }),
      "persistentvolume-binder": () =>
        new PersistentVolumeBinder({
          api,
          volumes: inform(PersistentVolumeSchema),
          claims: inform(PersistentVolumeClaimSchema),
          recorder: recorder("persistentvolume-controller"),
          ...(settings.pvClaimBinderSyncPeriodMs === undefined
            ? {}
            : { syncPeriodMs: settings.pvClaimBinderSyncPeriodMs }),
        }),
    };
    const signingKey = settings.serviceAccountSigningKey;
    if (signingKey !== undefined) {
      build["serviceaccount-token"] = () =>
        new TokensController({
          api,
          signingKey,
          secrets: inform(SecretSchema),
          serviceAccounts: inform(ServiceAccountSchema),
          ...(settings.rootCa === undefined ? {} : { rootCa: settings.rootCa }),
        });
    }
    return Object.entries(build)
      .filter(([name]) => enabled.has(name as ControllerName))
      .map(([name, make]) => ({
        controller: make(),
        workers: this.options.concurrentSyncs?.[name as ControllerName] ?? DEFAULT_CONCURRENT_SYNCS,
      }));
  }

  private count(map: Map<string, number>, name: string): void {
    map.set(name, (map.get(name) ?? 0) + 1);
  }
}
