// The tug-apiserver process: settings -> API server on the store -> health/metrics HTTP ->
// serve until SIGTERM/SIGINT -> stop. A bad setting exits 2 with the problem on stderr;
// failing to start (store unreachable, port taken) exits 1; a graceful stop exits 0.

import {
  createLogger,
  type DaemonRunOptions,
  type HttpEndpoints,
  packageVersion,
  settingsOrExit,
  startHealthServer,
} from "@tug/daemon";
import { ApiServer } from "../server/api-server.js";
import { ApiServerMetrics } from "./metrics.js";
import { type ApiServerSettings, parseSettings } from "./settings.js";

export type RunOptions = DaemonRunOptions<RunningApiServer>;

export interface RunningApiServer {
  readonly settings: ApiServerSettings;
  readonly server: ApiServer;
  readonly healthPort: number | undefined;
  stop(reason: string): void;
}

/** Runs tug-apiserver until it is stopped; resolves with the exit code. */
export async function runTugApiserver(options: RunOptions): Promise<number> {
  const stdout = options.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = options.stderr ?? ((s: string) => process.stderr.write(s));
  const started = settingsOrExit(
    "tug-apiserver",
    () =>
      parseSettings(options.argv, {
        ...(options.env === undefined ? {} : { env: options.env }),
        version: packageVersion(import.meta.url, "@tug/apiserver"),
      }),
    { stdout, stderr },
  );
  if ("exitCode" in started) return started.exitCode;
  const settings: ApiServerSettings = started.settings;
  const log = createLogger({ level: settings.logLevel, write: stderr });
  let metrics: ApiServerMetrics | undefined;
  let server: ApiServer;
  const listen = settings.bindAddress.includes(":")
    ? `[${settings.bindAddress}]:${settings.securePort}`
    : `${settings.bindAddress}:${settings.securePort}`;
  try {
    server = await ApiServer.start({
      etcdServers: settings.etcdServers,
      listen,
      registryPrefix: settings.etcdPrefix,
      eventTtlSeconds: settings.eventTtlSeconds,
      serviceClusterIpRange: settings.serviceClusterIpRange,
      serviceNodePortRange: settings.serviceNodePortRange,
      ...(settings.advertiseAddress === undefined
        ? {}
        : { advertiseAddress: settings.advertiseAddress }),
      compactionIntervalMs: settings.compactionIntervalMs,
      maxRequestsInflight: settings.maxRequestsInflight,
      maxMutatingRequestsInflight: settings.maxMutatingRequestsInflight,
      authentication: settings.authentication,
      admission: {
        defaultNotReadyTolerationSeconds: settings.defaultNotReadyTolerationSeconds,
        defaultUnreachableTolerationSeconds: settings.defaultUnreachableTolerationSeconds,
      },
      onUnauthorized: (method, why) => log.info("unauthorized request", { method, why }),
      onCompactionError: (e) =>
        log.warn("compaction failed; trying again next interval", { error: e }),
      onWatchEvent: (resource, type) => metrics?.watchEvent(resource, type),
      observe: (call) => {
        metrics?.record(call);
        if (call.terminated) {
          log.info("watch closed: the client did not read its events fast enough", {
            resource: call.resource,
          });
        }
        // Checked first: the fields are not built for every call when nobody logs them.
        if (log.level === "debug") {
          log.debug("request", {
            verb: call.verb,
            resource: call.resource,
            code: call.code,
            ms: Math.round(call.durationMs * 10) / 10,
          });
        }
        if (call.error !== undefined && call.code >= 500) {
          log.warn("request failed", {
            verb: call.verb,
            resource: call.resource,
            code: call.code,
            error: call.error.message,
          });
        }
      },
    });
  } catch (e) {
    log.error("cannot start: is the store reachable at --etcd-servers, and the port free?", {
      etcdServers: settings.etcdServers,
      listen,
      error: e,
    });
    return 1;
  }
  metrics = new ApiServerMetrics(
    () => server.watcherCounts(),
    (kind) => server.inFlight.inFlight(kind),
  );
  let health: HttpEndpoints | undefined;
  if (settings.healthPort !== 0) {
    try {
      health = await startHealthServer({
        host: settings.bindAddress,
        port: settings.healthPort,
        ready: () => server.notReadyReason(),
        metrics: () => metrics?.render() ?? "",
      });
    } catch (e) {
      log.error("cannot serve /healthz, /readyz and /metrics: is --health-port free?", {
        port: settings.healthPort,
        error: e,
      });
      await server.stop();
      return 1;
    }
  }
  log.info("serving", {
    api: server.address,
    health: health === undefined ? "off" : `${settings.bindAddress}:${health.port}`,
    etcdServers: settings.etcdServers,
    etcdPrefix: settings.etcdPrefix,
  });

  let signalled = 0;
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (sig: string) => {
      signalled++;
      if (signalled > 1) process.exit(1);
      resolve(`received ${sig}`);
    };
    if (options.handleSignals === true) {
      process.on("SIGTERM", () => onSignal("SIGTERM"));
      process.on("SIGINT", () => onSignal("SIGINT"));
    }
    options.onStarted?.({
      settings,
      server,
      healthPort: health?.port,
      stop: (reason) => resolve(reason),
    });
  });
  const reason = await stopped;
  log.info("stopping", { reason });
  await server.stop();
  await health?.close();
  log.info("stopped");
  return 0;
}
