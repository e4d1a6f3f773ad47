// tug-cri-docker's server: CRI's RuntimeService and ImageService on a unix socket (grpc-js),
// the exec streaming server beside it, and the adoption of what exists on start (log copying
// resumes for every running CRI container, so a runtime restart loses no output).

import { chmodSync, mkdirSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import type Docker from "dockerode";
import { DEFAULT_INSTANCE, LABEL, ownedFilters, TYPE_CONTAINER } from "./container-labels.js";
import { followLogs } from "./containers.js";
import {
  type CallObserver,
  imageServiceImplementation,
  runtimeServiceImplementation,
} from "./cri-handlers.js";
import { lastLogTimestamp } from "./cri-log-file.js";
import { dockerClient } from "./docker-endpoint.js";
import { rfc3339ToNanos } from "./docker-time.js";
import { ExecStreamingServer } from "./exec-streaming-server.js";
import type { LogCopier } from "./log-copier.js";
import { DEFAULT_POD_NETWORK } from "./pod-network.js";
import type { RuntimeContext } from "./runtime-context.js";
import { imageServiceDefinition, runtimeServiceDefinition } from "./service-definitions.js";

/** The runtime's default socket (DESIGN.md, ports table). */
export const DEFAULT_CRI_SOCKET = "/run/tug/cri-docker.sock";

/** The default sandbox image, built locally by scripts/build-images.sh. */
export const DEFAULT_PAUSE_IMAGE = "tug/pause:latest";

/** The socket's mode: the owner and its group (the agent's) may connect, nobody else. */
const SOCKET_MODE = 0o660;

export interface CriServerOptions {
  /** Unix socket path to serve on. Default /run/tug/cri-docker.sock. */
  socketPath?: string;
  /** Docker endpoint, Docker's -H syntax. Default unix:///var/run/docker.sock. */
  dockerEndpoint?: string;
  /** A dockerode client to use instead of `dockerEndpoint`. */
  docker?: Docker;
  /**
   * This runtime's name among the runtimes sharing the engine (one per agent of a local
   * cluster); it manages only the containers it labelled. Default "default".
   */
  instance?: string;
  /** Sandbox image. Default tug/pause:latest. */
  pauseImage?: string;
  /** The Docker network pod sandboxes join. Default "bridge" (Docker's default network). */
  podNetwork?: string;
  /** Address of the exec streaming server. Default 127.0.0.1, port 0 (any free port). */
  streamingHost?: string;
  streamingPort?: number;
  /** Called after every CRI call. */
  onCall?: CallObserver;
  /** Failures with no caller: a log copy that broke. */
  onBackgroundError?: (what: string, e: unknown) => void;
}

/** A running tug-cri-docker. */
export class CriServer {
  private constructor(
    readonly socketPath: string,
    readonly docker: Docker,
    private readonly grpc: Server,
    private readonly ctx: RuntimeContext,
  ) {}

  /** The base URL of the exec streaming server (Exec returns URLs under it). */
  get streamingUrl(): string {
    return this.ctx.streaming.url;
  }

  static async start(options: CriServerOptions = {}): Promise<CriServer> {
    const socketPath = options.socketPath ?? DEFAULT_CRI_SOCKET;
    const docker = options.docker ?? dockerClient(options.dockerEndpoint);
    await claimSocket(socketPath);
    const streaming = new ExecStreamingServer(docker);
    await streaming.listen(options.streamingHost ?? "127.0.0.1", options.streamingPort ?? 0);
    const ctx: RuntimeContext = {
      docker,
      instance: options.instance || DEFAULT_INSTANCE,
      pauseImage: options.pauseImage ?? DEFAULT_PAUSE_IMAGE,
      podNetwork: options.podNetwork || DEFAULT_POD_NETWORK,
      logCopiers: new Map<string, LogCopier>(),
      streaming,
      onBackgroundError: options.onBackgroundError ?? (() => undefined),
    };
    const grpc = new Server();
    grpc.addService(runtimeServiceDefinition, runtimeServiceImplementation(ctx, options.onCall));
    grpc.addService(imageServiceDefinition, imageServiceImplementation(ctx, options.onCall));
    try {
      await new Promise<void>((resolve, reject) => {
        grpc.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (err) =>
          err ? reject(err) : resolve(),
        );
      });
      chmodSync(socketPath, SOCKET_MODE);
    } catch (e) {
      grpc.forceShutdown();
      await streaming.close();
      throw new Error(
        `cannot serve CRI on ${socketPath}: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
    const server = new CriServer(socketPath, docker, grpc, ctx);
    await server.adopt();
    return server;
  }

  /**
   * Resumes log copying after a restart: for every running container, and for every container
   * that exited after the last entry in its log file (it stopped while no runtime copied).
   */
  private async adopt(): Promise<void> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.docker.listContainers({
        all: true,
        filters: { label: ownedFilters(this.ctx.instance, TYPE_CONTAINER) },
      });
    } catch (e) {
      this.ctx.onBackgroundError("list containers to resume their logs", e);
      return;
    }
    for (const c of containers) {
      const logPath = c.Labels?.[LABEL.logPath] ?? "";
      if (logPath === "" || c.State === "created") continue;
      try {
        const info = await this.docker.getContainer(c.Id).inspect();
        if (!info.State.Running) {
          const last = lastLogTimestamp(logPath);
          const finished = rfc3339ToNanos(info.State.FinishedAt);
          if (last !== undefined && rfc3339ToNanos(last) >= finished) continue;
        }
        followLogs(this.ctx, info);
      } catch (e) {
        this.ctx.onBackgroundError(`resume the log of container ${c.Id}`, e);
      }
    }
  }

  /** Stops serving: closes the socket, the streaming server and the log copiers. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, 2000);
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.ctx.streaming.close();
    const copiers = [...this.ctx.logCopiers.values()];
    this.ctx.logCopiers.clear();
    await Promise.all(copiers.map((c) => c.stop()));
    rmSync(this.socketPath, { force: true });
  }
}

/**
 * Makes `path` free for a new socket: creates its directory, refuses a socket a live server
 * answers on, and removes a stale one (left by a runtime that died).
 */
async function claimSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  try {
    statSync(path);
  } catch {
    return; // nothing there
  }
  const live = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (live) {
    throw new Error(
      `socket ${path} is in use by a running server; stop it first or choose another path with --listen`,
    );
  }
  rmSync(path, { force: true });
}
