// The tug-cri-docker process: settings (flags, TUG_CRI_* environment, YAML --config), JSON logs
// on stderr, the CRI server, optional /healthz, /readyz and Prometheus /metrics (those three
// and the settings layering are @tug/daemon's), and a clean stop on SIGINT/SIGTERM. See
// docs/cri-docker.md.

import {
  type Counter,
  createLogger,
  type DaemonRunOptions,
  envVarName,
  type FlagSpec,
  gatherSettings,
  type HttpEndpoints,
  MetricsRegistry,
  type ParsedSettings,
  packageVersion,
  type SettingsCommand,
  type SettingsReader,
  settingsOrExit,
  startHealthServer,
} from "@tug/daemon";
import type { CallRecord } from "./cri-handlers.js";
import { CriServer, DEFAULT_CRI_SOCKET, DEFAULT_PAUSE_IMAGE } from "./cri-server.js";
import { DEFAULT_DOCKER_ENDPOINT } from "./docker-endpoint.js";
import { DEFAULT_POD_NETWORK } from "./pod-network.js";

export const ENV_PREFIX = "TUG_CRI_";

/** Every setting, in --help order. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "listen",
    arg: "<path>",
    description: "unix socket to serve CRI on",
    default: DEFAULT_CRI_SOCKET,
  },
  {
    name: "docker-endpoint",
    arg: "<url>",
    description: "Docker engine (unix:///path or tcp://host:port)",
    default: DEFAULT_DOCKER_ENDPOINT,
  },
  {
    name: "instance",
    arg: "<name>",
    description: "this runtime's name among runtimes sharing one engine",
    default: "default",
  },
  {
    name: "pause-image",
    arg: "<image>",
    description: "image of pod sandbox containers",
    default: DEFAULT_PAUSE_IMAGE,
  },
  {
    name: "pod-network",
    arg: "<network>",
    description: "Docker network pod sandboxes join (tug-agent's node network is tug-<node>)",
    default: DEFAULT_POD_NETWORK,
  },
  {
    name: "streaming-address",
    arg: "<host:port>",
    description: "exec streaming server (port 0: any free port)",
    default: "127.0.0.1:0",
  },
  {
    name: "metrics-address",
    arg: "<host:port>",
    description: "serve /healthz, /readyz and /metrics here (off when empty)",
    default: "",
  },
  { name: "log-level", arg: "<level>", description: "debug, info, warn or error", default: "info" },
];

const COMMAND: SettingsCommand = {
  name: "tug-cri-docker",
  description: "A CRI v1 runtime (RuntimeService, ImageService) backed by Docker.",
  helpAfter: [
    `Every flag can also be set in the environment as ${ENV_PREFIX}<FLAG>, e.g. ${envVarName(ENV_PREFIX, "listen")}=/run/tug/cri.sock,`,
    "or as a key of the --config YAML file, e.g. listen: /run/tug/cri.sock. A flag wins over the",
    "environment, the environment over the file. Docs: docs/cri-docker.md.",
  ].join("\n"),
  envPrefix: ENV_PREFIX,
  flags: FLAGS,
  configFlag: "config",
  configFormat: "yaml",
  configExample: '"instance: node-1"',
};

interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface CriDockerSettings {
  readonly listen: string;
  readonly dockerEndpoint: string;
  readonly instance: string;
  readonly pauseImage: string;
  readonly podNetwork: string;
  readonly streaming: HostPort;
  /** Off when undefined. */
  readonly metrics: HostPort | undefined;
  readonly logLevel: ReturnType<SettingsReader["logLevel"]>;
}

/** "host:port" → parts; the port must be a number 0-65535; a problem names the setting. */
function hostPort(s: SettingsReader, flag: string): HostPort {
  const value = s.value(flag);
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || port > 65535) {
    s.problem(`${s.describe(flag)} "${value}" is not host:port; use e.g. 127.0.0.1:0`);
    return { host: "127.0.0.1", port: 0 };
  }
  return { host: (m[1] ?? "").replace(/^\[|\]$/g, "") || "127.0.0.1", port };
}

/**
 * Flags over TUG_CRI_* over the --config file. --help, --version and usage errors give an
 * "exit" result; a bad value throws ConfigError.
 */
export function parseSettings(
  argv: readonly string[],
  options: Parameters<typeof gatherSettings>[2] = {},
): ParsedSettings<CriDockerSettings> {
  const gathered = gatherSettings(COMMAND, argv, options);
  if (gathered.kind === "exit") return gathered;
  const s = gathered.settings;
  const settings: CriDockerSettings = {
    listen: s.value("listen"),
    dockerEndpoint: s.value("docker-endpoint"),
    instance: s.value("instance"),
    pauseImage: s.value("pause-image"),
    podNetwork: s.value("pod-network"),
    streaming: hostPort(s, "streaming-address"),
    metrics: s.value("metrics-address") === "" ? undefined : hostPort(s, "metrics-address"),
    logLevel: s.logLevel(),
  };
  s.check();
  return { kind: "run", settings };
}

/** Per method and gRPC code: calls and total seconds, for /metrics. */
class CallMetrics {
  readonly registry = new MetricsRegistry();
  private readonly calls: Counter;
  private readonly seconds: Counter;

  constructor() {
    this.calls = this.registry.counter(
      "tug_cri_requests_total",
      "CRI calls served, by method and gRPC code.",
      true,
    );
    this.seconds = this.registry.counter(
      "tug_cri_request_duration_seconds_sum",
      "Time spent serving CRI calls.",
      true,
    );
  }

  observe(r: CallRecord): void {
    const labels = { method: r.method, code: String(r.code) };
    this.calls.inc(1, labels);
    this.seconds.inc(r.durationMs / 1000, labels);
  }
}

/** What onStarted is handed once tug-cri-docker serves CRI (and /metrics, when asked for). */
export interface RunningCriDocker {
  readonly settings: CriDockerSettings;
  readonly server: CriServer;
  /** The unix socket CRI is served on. */
  readonly socketPath: string;
  /** The exec streaming server's base URL (its port bound, when --streaming-address asked 0). */
  readonly streamingUrl: string;
  /** The base URL of /healthz, /readyz and /metrics; undefined when --metrics-address is empty. */
  readonly metricsUrl: string | undefined;
  /** Stops it as SIGTERM would; runTugCriDocker then resolves with 0. */
  stop(reason: string): void;
}

export interface RunOptions extends DaemonRunOptions<RunningCriDocker> {
  /** Aborting stops it as a signal would (tests). */
  readonly signal?: AbortSignal;
}

/** Runs tug-cri-docker until stopped; resolves with the process exit code. */
export async function runTugCriDocker(options: RunOptions): Promise<number> {
  const started = settingsOrExit(
    "tug-cri-docker",
    () =>
      parseSettings(options.argv, {
        env: options.env ?? process.env,
        version: packageVersion(import.meta.url, "@tug/cri-docker"),
      }),
    options,
  );
  if ("exitCode" in started) return started.exitCode;
  const opts = started.settings;
  const log = createLogger({
    level: opts.logLevel,
    component: "tug-cri-docker",
    ...(options.stderr === undefined ? {} : { write: options.stderr }),
  });
  const metrics = new CallMetrics();
  let server: CriServer;
  try {
    server = await CriServer.start({
      socketPath: opts.listen,
      dockerEndpoint: opts.dockerEndpoint,
      pauseImage: opts.pauseImage,
      podNetwork: opts.podNetwork,
      instance: opts.instance,
      streamingHost: opts.streaming.host,
      streamingPort: opts.streaming.port,
      onCall: (r) => {
        metrics.observe(r);
        if (r.error !== undefined)
          log.warn("CRI call failed", { method: r.method, code: r.code, error: r.error });
      },
      onBackgroundError: (what, e) => log.error(what, { error: e }),
    });
  } catch (e) {
    log.error("cannot start", { error: e });
    return 1;
  }
  log.info("serving CRI", {
    socket: server.socketPath,
    dockerEndpoint: opts.dockerEndpoint,
    pauseImage: opts.pauseImage,
    podNetwork: opts.podNetwork,
    instance: opts.instance,
    streaming: server.streamingUrl,
  });
  let http: HttpEndpoints | undefined;
  if (opts.metrics !== undefined) {
    try {
      http = await startHealthServer({
        host: opts.metrics.host,
        port: opts.metrics.port,
        ready: () =>
          server.docker.ping().then(
            () => undefined,
            (e: unknown) => `docker engine: ${e instanceof Error ? e.message : String(e)}`,
          ),
        metrics: () => metrics.registry.render(),
      });
    } catch (e) {
      log.error("cannot serve /healthz, /readyz and /metrics: is --metrics-address free?", {
        error: e,
      });
      await server.stop();
      return 1;
    }
    log.info("serving health and metrics", { address: http.urls[0] });
  }
  let stopReason = "";
  let resolveStopped = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const requestStop = (reason: string): void => {
    stopReason ||= reason;
    resolveStopped();
  };
  const onAbort = () => requestStop("aborted");
  const onSigint = () => requestStop("SIGINT");
  const onSigterm = () => requestStop("SIGTERM");
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.handleSignals) {
    process.once("SIGINT", onSigint);
    process.once("SIGTERM", onSigterm);
  }
  options.onStarted?.({
    settings: opts,
    server,
    socketPath: server.socketPath,
    streamingUrl: server.streamingUrl,
    metricsUrl: http?.urls[0],
    stop: (reason) => requestStop(reason),
  });
  await stopped;
  options.signal?.removeEventListener("abort", onAbort);
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigterm);
  log.info("stopping", { reason: stopReason });
  await http?.close();
  await server.stop();
  return 0;
}
