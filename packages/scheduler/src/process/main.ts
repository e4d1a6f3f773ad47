// The tug-scheduler process: settings -> API client -> /healthz /readyz /metrics -> leader
// election (unless --leader-elect=false) -> while leading: informers on pods, nodes and
// namespaces feed a fresh Scheduler, which schedules once the caches have synced. Losing the
// lease stops scheduling and ends the process (exit 1), as kube-scheduler does, so that a
// supervisor restarts it as a standby with a clean cache. SIGTERM/SIGINT stop it (exit 0).
// A bad setting exits 2.

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  type Namespace,
  NamespaceSchema,
  type Node,
  NodeSchema,
  type Pod,
  PodSchema,
} from "@tug/api";
import {
  ApiClient,
  apiLeaseClient,
  apiListerWatcher,
  type DeletedFinalStateUnknown,
  isDeletedFinalStateUnknown,
  LeaderElector,
  type ReflectorCounts,
  SharedInformerFactory,
} from "@tug/client";
import {
  createLogger,
  type DaemonRunOptions,
  type HttpEndpoints,
  type Logger,
  packageVersion,
  settingsOrExit,
  startHealthServer,
} from "@tug/daemon";
import { defaultProfile } from "../framework/profile.js";
import { Scheduler } from "../scheduler.js";
import { apiBinder, apiEventRecorder, apiPodConditionWriter } from "./api-adapters.js";
import { EventSink } from "./event-sink.js";
import { schedulerMetrics } from "./metrics.js";
import { parseSettings, type SchedulerSettings } from "./settings.js";

export type RunOptions = DaemonRunOptions<RunningScheduler>;

export interface RunningScheduler {
  readonly settings: SchedulerSettings;
  readonly healthPort: number | undefined;
  /** The scheduler of the current leadership term, if leading. */
  current(): Scheduler | undefined;
  stop(reason: string): void;
}

function finalState<T extends Pod | Node | Namespace>(obj: T | DeletedFinalStateUnknown<T>): T {
  return isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
}

/** State shared between the leader's term and the HTTP endpoints. */
interface Term {
  scheduler: Scheduler | undefined;
  events: EventSink | undefined;
  /** The informers of the term, by resource, for their list and watch counts. */
  informers: ReadonlyMap<string, { reflectorCounts(): ReflectorCounts }>;
  synced: boolean;
  leading: boolean;
}

/**
 * Informers -> scheduler -> run, until `signal` aborts. Resolves when everything it started
 * has stopped.
 */
async function schedule(
  settings: SchedulerSettings,
  api: ApiClient,
  identity: string,
  log: Logger,
  term: Term,
  signal: AbortSignal,
): Promise<void> {
  const events = new EventSink();
  term.events = events;
  const scheduler = new Scheduler({
    binder: apiBinder(api),
    recorder: apiEventRecorder(api, {
      sink: events,
      component: settings.schedulerName,
      instance: identity,
      onError: (err, pod) =>
        log.warn("cannot record event", {
          pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
          error: err,
        }),
    }),
    conditions: apiPodConditionWriter(api, (err, pod) =>
      log.warn("cannot update pod condition", {
        pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
        error: err,
      }),
    ),
    profile: defaultProfile(settings.schedulerName),
    percentageOfNodesToScore: settings.percentageOfNodesToScore,
    initialBackoffMs: settings.podInitialBackoffMs,
    maxBackoffMs: settings.podMaxBackoffMs,
    onError: (err, context) =>
      log.warn("cannot read object; ignoring it", { object: context, error: err }),
  });
  term.scheduler = scheduler;
  const factory = new SharedInformerFactory({
    onError: (err, context) => log.warn(context, { error: err }),
  });
  const pods = factory.informerFor<Pod>({
    key: "v1/pods",
    newListerWatcher: () => apiListerWatcher(api, PodSchema),
  });
  const nodes = factory.informerFor<Node>({
    key: "v1/nodes",
    newListerWatcher: () => apiListerWatcher(api, NodeSchema),
  });
  const namespaces = factory.informerFor<Namespace>({
    key: "v1/namespaces",
    newListerWatcher: () => apiListerWatcher(api, NamespaceSchema),
  });
  term.informers = new Map<string, { reflectorCounts(): ReflectorCounts }>([
    ["pods", pods],
    ["nodes", nodes],
    ["namespaces", namespaces],
  ]);
  nodes.addEventHandler({
    onAdd: (n) => scheduler.onNodeAdd(n),
    onUpdate: (o, n) => scheduler.onNodeUpdate(o, n),
    onDelete: (n) => scheduler.onNodeDelete(finalState(n)),
  });
  namespaces.addEventHandler({
    onAdd: (n) => scheduler.onNamespaceUpdate(n),
    onUpdate: (_o, n) => scheduler.onNamespaceUpdate(n),
    onDelete: (n) => scheduler.onNamespaceDelete(finalState(n)),
  });
  pods.addEventHandler({
    onAdd: (p) => scheduler.onPodAdd(p),
    onUpdate: (o, p) => scheduler.onPodUpdate(o, p),
    onDelete: (p) => scheduler.onPodDelete(finalState(p)),
  });
  factory.start();
  const synced = await factory.waitForCacheSync(signal);
  let running: Promise<void> | undefined;
  if (!signal.aborted && [...synced.values()].every((s) => s)) {
    term.synced = true;
    log.info("caches synced; scheduling", {
      nodes: scheduler.snapshot.numNodes(),
      pending: scheduler.queue.pending().active,
    });
    running = scheduler.run();
  }
  if (!signal.aborted) {
    await new Promise<void>((resolve) =>
      signal.addEventListener("abort", () => resolve(), { once: true }),
    );
  }
  scheduler.stop();
  await running;
  await scheduler.idle();
  await factory.shutdown();
  term.synced = false;
}

/** Runs tug-scheduler until it is stopped; resolves with the exit code. */
export async function runTugScheduler(options: RunOptions): Promise<number> {
  const stdout = options.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = options.stderr ?? ((s: string) => process.stderr.write(s));
  const started = settingsOrExit(
    "tug-scheduler",
    () =>
      parseSettings(options.argv, {
        ...(options.env === undefined ? {} : { env: options.env }),
        version: packageVersion(import.meta.url, "@tug/scheduler"),
      }),
    { stdout, stderr },
  );
  if ("exitCode" in started) return started.exitCode;
  const settings: SchedulerSettings = started.settings;
  const log = createLogger({ level: settings.logLevel, write: stderr });
  const identity = `${hostname()}_${randomUUID()}`;
  const api = new ApiClient({ servers: settings.master });
  const term: Term = {
    scheduler: undefined,
    events: undefined,
    informers: new Map(),
    synced: false,
    leading: false,
  };
  const stopper = new AbortController();
  let exitCode = 0;
  const stop = (reason: string, code = 0) => {
    if (stopper.signal.aborted) return;
    exitCode = code;
    log.info("stopping", { reason });
    stopper.abort();
  };

  let health: HttpEndpoints | undefined;
  if (settings.securePort !== 0) {
    const metrics = schedulerMetrics(term, settings.leaseName);
    try {
      health = await startHealthServer({
        host: settings.bindAddress,
        port: settings.securePort,
        ready: () => {
          if (settings.leaderElect && !term.leading) return undefined;
          return term.synced ? undefined : "informer caches not synced yet";
        },
        metrics: () => metrics.render(),
      });
    } catch (e) {
      log.error("cannot serve /healthz, /readyz and /metrics: is --secure-port free?", {
        port: settings.securePort,
        error: e,
      });
      api.close();
      return 1;
    }
  }
  log.info("started", {
    identity,
    master: settings.master,
    schedulerName: settings.schedulerName,
    health: health === undefined ? "off" : `${settings.bindAddress}:${health.port}`,
    leaderElect: settings.leaderElect,
  });
  const onSignal = (sig: string) => () => {
    if (stopper.signal.aborted) process.exit(1);
    stop(`received ${sig}`);
  };
  const sigterm = onSignal("SIGTERM");
  const sigint = onSignal("SIGINT");
  if (options.handleSignals === true) {
    process.on("SIGTERM", sigterm);
    process.on("SIGINT", sigint);
  }
  options.onStarted?.({
    settings,
    healthPort: health?.port,
    current: () => term.scheduler,
    stop: (reason) => stop(reason),
  });

  try {
    if (!settings.leaderElect) {
      term.leading = true;
      await schedule(settings, api, identity, log, term, stopper.signal).catch((err: unknown) => {
        log.error("scheduling failed", { error: err });
        exitCode = 1;
      });
    } else {
      let work: Promise<void> | undefined;
      const elector = new LeaderElector({
        lease: apiLeaseClient(api, settings.leaseNamespace, settings.leaseName),
        identity,
        leaseDurationMs: settings.leaseDurationMs,
        renewDeadlineMs: settings.renewDeadlineMs,
        retryPeriodMs: settings.retryPeriodMs,
        releaseOnCancel: true,
        onError: (err, context) => log.warn(context, { error: err }),
        callbacks: {
          onStartedLeading: (signal) => {
            term.leading = true;
            log.info("became leader", {
              lease: `${settings.leaseNamespace}/${settings.leaseName}`,
            });
            work = schedule(settings, api, identity, log, term, signal).catch((err: unknown) => {
              log.error("scheduling failed", { error: err });
              stop("scheduling failed", 1);
            });
          },
          onStoppedLeading: () => {
            term.leading = false;
            if (!stopper.signal.aborted) stop("leader election lost", 1);
          },
          onNewLeader: (holder) => {
            if (holder !== identity) log.info("new leader observed", { leader: holder });
          },
        },
      });
      await elector.run(stopper.signal);
      await work;
    }
  } finally {
    if (options.handleSignals === true) {
      process.off("SIGTERM", sigterm);
      process.off("SIGINT", sigint);
    }
    await health?.close();
    api.close();
  }
  log.info("stopped", { exitCode });
  return exitCode;
}
