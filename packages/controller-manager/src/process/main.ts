// The tug-controller-manager process: settings, JSON logs, the health/metrics server, and the
// ControllerManager. Exit codes: 0 after SIGINT/SIGTERM, 1 when leadership is lost (as
// kube-controller-manager, which restarts rather than run on with caches of another term) or
// the health port cannot be served, 2 on bad settings.

import {
  createLogger,
  type HttpEndpoints,
  packageVersion,
  settingsOrExit,
  startHealthServer,
} from "@tug/daemon";
import { ControllerManager } from "./controller-manager.js";
import { controllerManagerMetrics } from "./metrics.js";
import { loadClusterSettings, parseSettings } from "./settings.js";

export interface RunOptions {
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stop on SIGINT/SIGTERM. */
  readonly handleSignals?: boolean;
  readonly stdout?: (s: string) => void;
  readonly stderr?: (s: string) => void;
  /** Aborting stops the process as a signal would (tests). */
  readonly signal?: AbortSignal;
  /** Told the health server's port once it listens (tests use port 0). */
  readonly onListening?: (port: number) => void;
}

/** Runs until stopped; resolves to the exit code. */
export async function runTugControllerManager(options: RunOptions): Promise<number> {
  const stdout = options.stdout ?? ((s) => process.stdout.write(s));
  const stderr = options.stderr ?? ((s) => process.stderr.write(s));
  const started = settingsOrExit(
    "tug-controller-manager",
    () => {
      const parsed = parseSettings(options.argv, {
        env: options.env ?? process.env,
        version: packageVersion(import.meta.url, "@tug/controller-manager"),
      });
      if (parsed.kind === "exit") return parsed;
      // The key and CA files are read now, so that a bad one exits 2 before anything starts.
      return {
        kind: "run",
        settings: { settings: parsed.settings, cluster: loadClusterSettings(parsed.settings) },
      };
    },
    { stdout, stderr },
  );
  if ("exitCode" in started) return started.exitCode;
  const { settings: s, cluster } = started.settings;
  const logger = createLogger({ level: s.logLevel, write: stderr });
  let exitCode = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const manager = new ControllerManager({
    servers: s.servers,
    controllers: s.controllers,
    leaderElect: s.leaderElect,
    leaseDurationMs: s.leaseDurationMs,
    renewDeadlineMs: s.renewDeadlineMs,
    retryPeriodMs: s.retryPeriodMs,
    leaseNamespace: s.leaseNamespace,
    leaseName: s.leaseName,
    concurrentDeploymentSyncs: s.concurrentDeploymentSyncs,
    concurrentReplicaSetSyncs: s.concurrentReplicaSetSyncs,
    concurrentSyncs: s.concurrentSyncs,
    cluster,
    logger,
    onLeadershipLost: () => {
      logger.error("leaderelection lost");
      exitCode = 1;
      finish();
    },
  });
  const metrics = controllerManagerMetrics(manager.stats);
  let health: HttpEndpoints | undefined;
  if (s.healthPort !== 0 || options.onListening !== undefined) {
    try {
      health = await startHealthServer({
        host: s.bindAddress,
        port: s.healthPort,
        ready: () => {
          if (!s.leaderElect || manager.isLeading()) {
            return manager.isSynced() ? undefined : "informer caches not synced";
          }
          return undefined;
        },
        metrics: () => metrics.render(),
      });
    } catch (e) {
      logger.error("cannot serve /healthz, /readyz and /metrics: is --secure-port free?", {
        address: `${s.bindAddress}:${s.healthPort}`,
        error: e,
      });
      await manager.stop();
      return 1;
    }
    options.onListening?.(health.port);
  }
  const onSignal = () => finish();
  if (options.handleSignals === true) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  options.signal?.addEventListener("abort", onSignal, { once: true });
  logger.info("starting", {
    servers: s.servers,
    controllers: s.controllers,
    leaderElect: s.leaderElect,
    identity: manager.identity,
    healthPort: health?.port ?? 0,
  });
  manager.start();
  await finished;
  logger.info("stopping", { exitCode });
  await manager.stop();
  await health?.close();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  return exitCode;
}
