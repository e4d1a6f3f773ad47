// The tug-cri-docker process: flags (and their TUG_CRI_* environment variables), JSON logs on
// stderr, the CRI server, optional /healthz, /readyz and Prometheus /metrics, and a clean stop
// on SIGINT/SIGTERM. See docs/cri-docker.md.

import { createServer, type Server } from "node:http";
import { Command, Option } from "commander";
import type { CallRecord } from "./cri-handlers.js";
import { CriServer, DEFAULT_CRI_SOCKET, DEFAULT_PAUSE_IMAGE } from "./cri-server.js";
import { DEFAULT_DOCKER_ENDPOINT } from "./docker-endpoint.js";
import { DEFAULT_POD_NETWORK } from "./pod-network.js";

/** Writes one structured log line (JSON) to stderr. */
function log(
  level: "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, component: "tug-cri-docker", msg, ...fields })}\n`,
  );
}

/** "host:port" → parts; the port must be a number 0-65535. */
function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || port > 65535) {
    throw new Error(`${flag} "${value}" is invalid; use host:port, e.g. 127.0.0.1:0`);
  }
  return { host: (m[1] ?? "").replace(/^\[|\]$/g, "") || "127.0.0.1", port };
}

/** Per method and gRPC code: calls and total seconds, for /metrics. */
class CallMetrics {
  private readonly calls = new Map<string, { count: number; seconds: number }>();

  observe(r: CallRecord): void {
    const key = `method="${r.method}",code="${r.code}"`;
    const entry = this.calls.get(key) ?? { count: 0, seconds: 0 };
    entry.count += 1;
    entry.seconds += r.durationMs / 1000;
    this.calls.set(key, entry);
  }

  render(): string {
    const lines = [
      "# HELP tug_cri_requests_total CRI calls served, by method and gRPC code.",
      "# TYPE tug_cri_requests_total counter",
      ...[...this.calls].map(([k, v]) => `tug_cri_requests_total{${k}} ${v.count}`),
      "# HELP tug_cri_request_duration_seconds_sum Time spent serving CRI calls.",
      "# TYPE tug_cri_request_duration_seconds_sum counter",
      ...[...this.calls].map(([k, v]) => `tug_cri_request_duration_seconds_sum{${k}} ${v.seconds}`),
    ];
    return `${lines.join("\n")}\n`;
  }
}

export interface RunOptions {
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Stop on SIGINT/SIGTERM (the binary); tests stop through `signal`. */
  handleSignals?: boolean;
  signal?: AbortSignal;
}

/** Runs tug-cri-docker until stopped; resolves with the process exit code. */
export async function runTugCriDocker(options: RunOptions): Promise<number> {
  const env = options.env ?? process.env;
  const program = new Command("tug-cri-docker")
    .description("A CRI v1 runtime (RuntimeService, ImageService) backed by Docker.")
    .addOption(
      new Option("--listen <path>", "unix socket to serve CRI on")
        .env("TUG_CRI_LISTEN")
        .default(DEFAULT_CRI_SOCKET),
    )
    .addOption(
      new Option("--docker-endpoint <url>", "Docker engine (unix:///path or tcp://host:port)")
        .env("TUG_CRI_DOCKER_ENDPOINT")
        .default(DEFAULT_DOCKER_ENDPOINT),
    )
    .addOption(
      new Option("--instance <name>", "this runtime's name among runtimes sharing one engine")
        .env("TUG_CRI_INSTANCE")
        .default("default"),
    )
    .addOption(
      new Option("--pause-image <image>", "image of pod sandbox containers")
        .env("TUG_CRI_PAUSE_IMAGE")
        .default(DEFAULT_PAUSE_IMAGE),
    )
    .addOption(
      new Option(
        "--pod-network <network>",
        "Docker network pod sandboxes join (tug-agent's node network is tug-<node>)",
      )
        .env("TUG_CRI_POD_NETWORK")
        .default(DEFAULT_POD_NETWORK),
    )
    .addOption(
      new Option("--streaming-address <host:port>", "exec streaming server (port 0: any free port)")
        .env("TUG_CRI_STREAMING_ADDRESS")
        .default("127.0.0.1:0"),
    )
    .addOption(
      new Option(
        "--metrics-address <host:port>",
        "serve /healthz, /readyz and /metrics here (off when empty)",
      )
        .env("TUG_CRI_METRICS_ADDRESS")
        .default(""),
    )
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
    });
  // commander reads env vars from process.env; hand it ours.
  const saved = process.env;
  process.env = { ...saved, ...env };
  try {
    program.parse([...options.argv], { from: "user" });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return typeof code === "number" ? code : 2;
  } finally {
    process.env = saved;
  }
  const opts = program.opts<{
    listen: string;
    dockerEndpoint: string;
    pauseImage: string;
    podNetwork: string;
    instance: string;
    streamingAddress: string;
    metricsAddress: string;
  }>();
  let streaming: { host: string; port: number };
  let metricsAddr: { host: string; port: number } | undefined;
  try {
    streaming = hostPort(opts.streamingAddress, "--streaming-address");
    if (opts.metricsAddress !== "")
      metricsAddr = hostPort(opts.metricsAddress, "--metrics-address");
  } catch (e) {
    process.stderr.write(`tug-cri-docker: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const metrics = new CallMetrics();
  let server: CriServer;
  try {
    server = await CriServer.start({
      socketPath: opts.listen,
      dockerEndpoint: opts.dockerEndpoint,
      pauseImage: opts.pauseImage,
      podNetwork: opts.podNetwork,
      instance: opts.instance,
      streamingHost: streaming.host,
      streamingPort: streaming.port,
      onCall: (r) => {
        metrics.observe(r);
        if (r.error !== undefined)
          log("warn", "CRI call failed", {
            method: r.method,
            code: r.code,
            error: r.error.message,
          });
      },
      onBackgroundError: (what, e) =>
        log("error", what, { error: e instanceof Error ? e.message : String(e) }),
    });
  } catch (e) {
    log("error", "cannot start", { error: e instanceof Error ? e.message : String(e) });
    return 1;
  }
  log("info", "serving CRI", {
    socket: server.socketPath,
    dockerEndpoint: opts.dockerEndpoint,
    pauseImage: opts.pauseImage,
    podNetwork: opts.podNetwork,
    instance: opts.instance,
    streaming: server.streamingUrl,
  });
  let http: Server | undefined;
  if (metricsAddr !== undefined) {
    const addr = metricsAddr;
    http = createServer((req, res) => {
      if (req.url === "/healthz") return void res.end("ok\n");
      if (req.url === "/readyz") {
        server.docker.ping().then(
          () => res.end("ok\n"),
          (e: unknown) => {
            res.statusCode = 503;
            res.end(`docker engine not ready: ${String(e)}\n`);
          },
        );
        return;
      }
      if (req.url === "/metrics") {
        res.setHeader("content-type", "text/plain; version=0.0.4");
        return void res.end(metrics.render());
      }
      res.statusCode = 404;
      res.end("not found; try /healthz, /readyz or /metrics\n");
    });
    await new Promise<void>((resolve) => http?.listen(addr.port, addr.host, resolve));
    log("info", "serving health and metrics", { address: opts.metricsAddress });
  }
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
    if (options.handleSignals) {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }
  });
  log("info", "stopping");
  http?.close();
  await server.stop();
  return 0;
}
