// The tug-controller-manager process: settings, JSON logs, the health/metrics server, and the
// ControllerManager. Exit codes: 0 after SIGINT/SIGTERM, 1 when leadership is lost (as
// kube-controller-manager, which restarts rather than run on with caches of another term),
// 2 on bad settings.

import { ControllerManager } from "./controller-manager.js";
import { type HealthServer, metricsText, startHealthServer } from "./health-server.js";
import { createLogger } from "./logger.js";
import { ConfigError, loadClusterSettings, parseSettings } from "./settings.js";

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
  let parsed: ReturnType<typeof parseSettings>;
  try {
    parsed = parseSettings(options.argv, { env: options.env ?? process.env });
  } catch (e) {
    if (e instanceof ConfigError) {
      stderr(`tug-controller-manager: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.kind === "exit") {
    (parsed.code === 0 ? stdout : stderr)(parsed.output);
    return parsed.code;
  }
  const s = parsed.settings;
  let cluster: ReturnType<typeof loadClusterSettings>;
  try {
    cluster = loadClusterSettings(s);
  } catch (e) {
    if (e instanceof ConfigError) {
      stderr(`tug-controller-manager: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createLogger(s.logLevel, stderr);
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
  let health: HealthServer | undefined;
  if (s.healthPort !== 0 || options.onListening !== undefined) {
    health = await startHealthServer({
      host: s.bindAddress,
      port: s.healthPort,
      ready: () => {
        if (!s.leaderElect || manager.isLeading()) {
          return manager.isSynced() ? undefined : "informer caches not synced";
        }
        return undefined;
      },
      metrics: () => metricsText(manager.stats),
    });
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
