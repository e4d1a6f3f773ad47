// The grpc-js implementations of RuntimeService and ImageService: each method decodes nothing
// itself (the service definitions do), runs its operation and answers with the response or
// the CriError's code and message. Every method of both services is implemented.

import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import {
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { containerStats, listContainerStats } from "./container-stats.js";
import {
  containerStatus,
  createContainer,
  inspectContainer,
  listContainers,
  removeContainer,
  reopenContainerLog,
  startContainer,
  stopContainer,
  updateContainerResources,
} from "./containers.js";
import { CriError } from "./cri-error.js";
import { execSync } from "./exec-sync.js";
import * as cri from "./gen/cri/api_pb.js";
import { cachedImageFsInfo, imageStatus, listImages, pullImage, removeImage } from "./images.js";
import { networkReady } from "./pod-network.js";
import type { RuntimeContext } from "./runtime-context.js";
import {
  listPodSandbox,
  podSandboxStatus,
  removePodSandbox,
  runPodSandbox,
  stopPodSandbox,
} from "./sandboxes.js";

/** CRI's runtime API version this runtime serves. */
export const RUNTIME_API_VERSION = "v1";

/** The runtime name Version reports (cri-dockerd's). */
export const RUNTIME_NAME = "docker";

/** One finished call, for logs and metrics. */
export interface CallRecord {
  readonly method: string;
  readonly durationMs: number;
  readonly code: status;
  readonly error?: CriError;
}

export type CallObserver = (record: CallRecord) => void;

function toCri(e: unknown): CriError {
  if (e instanceof CriError) return e;
  return new CriError(status.INTERNAL, e instanceof Error ? e.message : String(e), { cause: e });
}

function unaryFor(observe: CallObserver) {
  return <I extends DescMessage, O extends DescMessage>(
    method: string,
    output: O,
    run: (req: MessageShape<I>) => Promise<MessageInitShape<O>>,
  ) =>
    (
      call: ServerUnaryCall<MessageShape<I>, MessageShape<O>>,
      callback: sendUnaryData<MessageShape<O>>,
    ) => {
      const started = performance.now();
      Promise.resolve()
        .then(() => run(call.request))
        .then(
          (res) => {
            observe({ method, durationMs: performance.now() - started, code: status.OK });
            callback(null, create(output, res));
          },
          (e: unknown) => {
            const error = toCri(e);
            observe({ method, durationMs: performance.now() - started, code: error.code, error });
            callback({
              code: error.code,
              details: error.message,
              message: error.message,
              name: error.name,
            });
          },
        );
    };
}

/** RuntimeService on Docker. */
export function runtimeServiceImplementation(
  ctx: RuntimeContext,
  observe: CallObserver = () => undefined,
): UntypedServiceImplementation {
  const unary = unaryFor(observe);
  return {
    Version: unary<typeof cri.VersionRequestSchema, typeof cri.VersionResponseSchema>(
      "Version",
      cri.VersionResponseSchema,
      async () => {
        let version: string;
        try {
          version = (await ctx.docker.version()).Version;
        } catch (e) {
          throw new CriError(
            status.UNAVAILABLE,
            `the Docker engine does not answer: ${String(e)}`,
            {
              cause: e,
            },
          );
        }
        return {
          version: "0.1.0",
          runtimeName: RUNTIME_NAME,
          runtimeVersion: version,
          runtimeApiVersion: RUNTIME_API_VERSION,
        };
      },
    ),
    Status: unary<typeof cri.StatusRequestSchema, typeof cri.StatusResponseSchema>(
      "Status",
      cri.StatusResponseSchema,
      async () => {
        let runtime = { status: true, reason: "", message: "" };
        try {
          await ctx.docker.ping();
        } catch (e) {
          runtime = {
            status: false,
            reason: "DockerDaemonNotReady",
            message: `the Docker engine does not answer: ${e instanceof Error ? e.message : String(e)}`,
          };
        }
        const net = runtime.status
          ? await networkReady(ctx.docker, ctx.podNetwork)
          : { ready: false, reason: "DockerDaemonNotReady", message: runtime.message };
        return {
          status: {
            conditions: [
              { type: "RuntimeReady", ...runtime },
              { type: "NetworkReady", status: net.ready, reason: net.reason, message: net.message },
            ],
          },
        };
      },
    ),
    RunPodSandbox: unary<
      typeof cri.RunPodSandboxRequestSchema,
      typeof cri.RunPodSandboxResponseSchema
    >("RunPodSandbox", cri.RunPodSandboxResponseSchema, async (req) => ({
      podSandboxId: await runPodSandbox(ctx, req),
    })),
    StopPodSandbox: unary<
      typeof cri.StopPodSandboxRequestSchema,
      typeof cri.StopPodSandboxResponseSchema
    >("StopPodSandbox", cri.StopPodSandboxResponseSchema, async (req) => {
      await stopPodSandbox(ctx, req.podSandboxId);
      return {};
    }),
    RemovePodSandbox: unary<
      typeof cri.RemovePodSandboxRequestSchema,
      typeof cri.RemovePodSandboxResponseSchema
    >("RemovePodSandbox", cri.RemovePodSandboxResponseSchema, async (req) => {
      await removePodSandbox(ctx, req.podSandboxId);
      return {};
    }),
    PodSandboxStatus: unary<
      typeof cri.PodSandboxStatusRequestSchema,
      typeof cri.PodSandboxStatusResponseSchema
    >("PodSandboxStatus", cri.PodSandboxStatusResponseSchema, (req) =>
      podSandboxStatus(ctx, req.podSandboxId),
    ),
    ListPodSandbox: unary<
      typeof cri.ListPodSandboxRequestSchema,
      typeof cri.ListPodSandboxResponseSchema
    >("ListPodSandbox", cri.ListPodSandboxResponseSchema, (req) => listPodSandbox(ctx, req)),
    CreateContainer: unary<
      typeof cri.CreateContainerRequestSchema,
      typeof cri.CreateContainerResponseSchema
    >("CreateContainer", cri.CreateContainerResponseSchema, async (req) => ({
      containerId: await createContainer(ctx, req),
    })),
    StartContainer: unary<
      typeof cri.StartContainerRequestSchema,
      typeof cri.StartContainerResponseSchema
    >("StartContainer", cri.StartContainerResponseSchema, async (req) => {
      await startContainer(ctx, req.containerId);
      return {};
    }),
    StopContainer: unary<
      typeof cri.StopContainerRequestSchema,
      typeof cri.StopContainerResponseSchema
    >("StopContainer", cri.StopContainerResponseSchema, async (req) => {
      await stopContainer(ctx, req.containerId, req.timeout);
      return {};
    }),
    RemoveContainer: unary<
      typeof cri.RemoveContainerRequestSchema,
      typeof cri.RemoveContainerResponseSchema
    >("RemoveContainer", cri.RemoveContainerResponseSchema, async (req) => {
      await removeContainer(ctx, req.containerId);
      return {};
    }),
    ListContainers: unary<
      typeof cri.ListContainersRequestSchema,
      typeof cri.ListContainersResponseSchema
    >("ListContainers", cri.ListContainersResponseSchema, (req) => listContainers(ctx, req)),
    ContainerStatus: unary<
      typeof cri.ContainerStatusRequestSchema,
      typeof cri.ContainerStatusResponseSchema
    >("ContainerStatus", cri.ContainerStatusResponseSchema, (req) =>
      containerStatus(ctx, req.containerId),
    ),
    UpdateContainerResources: unary<
      typeof cri.UpdateContainerResourcesRequestSchema,
      typeof cri.UpdateContainerResourcesResponseSchema
    >("UpdateContainerResources", cri.UpdateContainerResourcesResponseSchema, async (req) => {
      await updateContainerResources(ctx, req.containerId, req.linux);
      return {};
    }),
    ReopenContainerLog: unary<
      typeof cri.ReopenContainerLogRequestSchema,
      typeof cri.ReopenContainerLogResponseSchema
    >("ReopenContainerLog", cri.ReopenContainerLogResponseSchema, async (req) => {
      await reopenContainerLog(ctx, req.containerId);
      return {};
    }),
    ExecSync: unary<typeof cri.ExecSyncRequestSchema, typeof cri.ExecSyncResponseSchema>(
      "ExecSync",
      cri.ExecSyncResponseSchema,
      async (req) => {
        const info = await inspectContainer(ctx, req.containerId);
        const r = await execSync(ctx.docker, info.Id, req.cmd, Number(req.timeout));
        return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
      },
    ),
    Exec: unary<typeof cri.ExecRequestSchema, typeof cri.ExecResponseSchema>(
      "Exec",
      cri.ExecResponseSchema,
      async (req) => {
        if (req.containerId === "") throw CriError.invalidArgument("container_id is required");
        // Fail now, not on connect, when the container does not run.
        const info = await inspectContainer(ctx, req.containerId);
        if (!info.State.Running) {
          throw CriError.failedPrecondition(`container ${req.containerId} is not running`);
        }
        return {
          url: ctx.streaming.prepare({
            containerId: info.Id,
            cmd: [...req.cmd],
            tty: req.tty,
            stdin: req.stdin,
            stdout: req.stdout,
            stderr: req.stderr,
          }),
        };
      },
    ),
    ContainerStats: unary<
      typeof cri.ContainerStatsRequestSchema,
      typeof cri.ContainerStatsResponseSchema
    >("ContainerStats", cri.ContainerStatsResponseSchema, async (req) => ({
      stats: await containerStats(ctx, req.containerId),
    })),
    ListContainerStats: unary<
      typeof cri.ListContainerStatsRequestSchema,
      typeof cri.ListContainerStatsResponseSchema
    >("ListContainerStats", cri.ListContainerStatsResponseSchema, async (req) => ({
      stats: await listContainerStats(ctx, req.filter),
    })),
  };
}

/** ImageService on Docker. */
export function imageServiceImplementation(
  ctx: RuntimeContext,
  observe: CallObserver = () => undefined,
): UntypedServiceImplementation {
  const unary = unaryFor(observe);
  return {
    ListImages: unary<typeof cri.ListImagesRequestSchema, typeof cri.ListImagesResponseSchema>(
      "ListImages",
      cri.ListImagesResponseSchema,
      (req) => listImages(ctx.docker, req.filter?.image?.image ?? ""),
    ),
    ImageStatus: unary<typeof cri.ImageStatusRequestSchema, typeof cri.ImageStatusResponseSchema>(
      "ImageStatus",
      cri.ImageStatusResponseSchema,
      (req) => imageStatus(ctx.docker, req.image),
    ),
    PullImage: unary<typeof cri.PullImageRequestSchema, typeof cri.PullImageResponseSchema>(
      "PullImage",
      cri.PullImageResponseSchema,
      async (req) => ({ imageRef: await pullImage(ctx.docker, req) }),
    ),
    RemoveImage: unary<typeof cri.RemoveImageRequestSchema, typeof cri.RemoveImageResponseSchema>(
      "RemoveImage",
      cri.RemoveImageResponseSchema,
      async (req) => {
        await removeImage(ctx.docker, req.image);
        return {};
      },
    ),
    ImageFsInfo: unary<typeof cri.ImageFsInfoRequestSchema, typeof cri.ImageFsInfoResponseSchema>(
      "ImageFsInfo",
      cri.ImageFsInfoResponseSchema,
      () => cachedImageFsInfo(ctx.docker),
    ),
  };
}
