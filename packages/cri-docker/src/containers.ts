// App containers in a pod sandbox, as Docker containers that join the sandbox's namespaces
// (network and IPC always, PID when the pod shares it). CRI: CreateContainer, StartContainer,
// StopContainer, RemoveContainer, ContainerStatus, ListContainers, UpdateContainerResources,
// ReopenContainerLog (k8s.io/cri-api runtime/v1 api.proto).

import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import type Docker from "dockerode";
import {
  containerName,
  criToDockerLabels,
  dockerToCriLabels,
  isOwned,
  LABEL,
  labelFilters,
  labelNumber,
  ownedFilters,
  TYPE_CONTAINER,
} from "./container-labels.js";
import { CriError, toCriError } from "./cri-error.js";
import { rfc3339ToNanos } from "./docker-time.js";
import {
  type Container,
  ContainerSchema,
  ContainerState,
  type ContainerStatusResponse,
  ContainerStatusResponseSchema,
  type CreateContainerRequest,
  type LinuxContainerResources,
  type ListContainersRequest,
  type ListContainersResponse,
  ListContainersResponseSchema,
  type Mount,
  MountPropagation,
  NamespaceMode,
} from "./gen/cri/api_pb.js";
import { inspectImage } from "./images.js";
import { LogCopier } from "./log-copier.js";
import type { RuntimeContext } from "./runtime-context.js";
import { inspectSandbox, removeQuietly, stopQuietly } from "./sandboxes.js";

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === "") {
    throw CriError.invalidArgument(`${field} is required; set it in the request`);
  }
  return value;
}

const PROPAGATION: Record<MountPropagation, "rprivate" | "rslave" | "rshared"> = {
  [MountPropagation.PROPAGATION_PRIVATE]: "rprivate",
  [MountPropagation.PROPAGATION_HOST_TO_CONTAINER]: "rslave",
  [MountPropagation.PROPAGATION_BIDIRECTIONAL]: "rshared",
};

/** Docker resource settings of CRI's LinuxContainerResources; 0 means "not specified". */
function dockerResources(r: LinuxContainerResources | undefined): Docker.HostConfig {
  if (r === undefined) return {};
  const out: Docker.HostConfig = {};
  if (r.cpuShares > 0n) out.CpuShares = Number(r.cpuShares);
  if (r.cpuPeriod > 0n) out.CpuPeriod = Number(r.cpuPeriod);
  if (r.cpuQuota > 0n) out.CpuQuota = Number(r.cpuQuota);
  if (r.memoryLimitInBytes > 0n) {
    out.Memory = Number(r.memoryLimitInBytes);
    // No swap beyond the limit unless asked for (the kubelet's NoSwap default).
    out.MemorySwap =
      r.memorySwapLimitInBytes > 0n
        ? Number(r.memorySwapLimitInBytes)
        : Number(r.memoryLimitInBytes);
  }
  if (r.cpusetCpus !== "") out.CpusetCpus = r.cpusetCpus;
  if (r.cpusetMems !== "") out.CpusetMems = r.cpusetMems;
  return out;
}

/** The PID namespace of a container: the pod's (CRI's default), its own, the node's or a target's. */
function pidMode(mode: NamespaceMode | undefined, sandboxId: string, targetId: string): string {
  switch (mode ?? NamespaceMode.POD) {
    case NamespaceMode.POD:
      return `container:${sandboxId}`;
    case NamespaceMode.NODE:
      return "host";
    case NamespaceMode.TARGET:
      if (targetId === "") {
        throw CriError.invalidArgument(
          "config.linux.security_context.namespace_options.target_id is required with pid TARGET",
        );
      }
      return `container:${targetId}`;
    default:
      return "";
  }
}

/** CreateContainer: creates (does not start) the container in the sandbox; returns its id. */
export async function createContainer(
  ctx: RuntimeContext,
  req: CreateContainerRequest,
): Promise<string> {
  const sandbox = await inspectSandbox(ctx, req.podSandboxId);
  const config = req.config;
  if (config === undefined) throw CriError.invalidArgument("config is required");
  const name = required(config.metadata?.name, "config.metadata.name");
  const attempt = config.metadata?.attempt ?? 0;
  const image = required(config.image?.image, "config.image.image");
  if ((await inspectImage(ctx.docker, image)) === undefined) {
    throw CriError.notFound(`image "${image}" is not present on this node; call PullImage first`);
  }
  const sl = sandbox.Config.Labels ?? {};
  const pod = sl[LABEL.podName] ?? "";
  const namespace = sl[LABEL.podNamespace] ?? "";
  const uid = sl[LABEL.podUid] ?? "";
  const logDirectory = req.sandboxConfig?.logDirectory || (sl[LABEL.logDirectory] ?? "");
  const logPath =
    logDirectory !== "" && config.logPath !== "" ? join(logDirectory, config.logPath) : "";
  const linux = config.linux;
  const security = linux?.securityContext;
  const ns = security?.namespaceOptions;
  const labels: Record<string, string> = {
    ...criToDockerLabels(config.labels, config.annotations),
    [LABEL.type]: TYPE_CONTAINER,
    [LABEL.instance]: ctx.instance,
    [LABEL.sandboxId]: sandbox.Id,
    [LABEL.podName]: pod,
    [LABEL.podNamespace]: namespace,
    [LABEL.podUid]: uid,
    [LABEL.containerName]: name,
    [LABEL.containerAttempt]: String(attempt),
    [LABEL.logPath]: logPath,
  };
  const mounts: Docker.MountSettings[] = config.mounts.map((m, i) => {
    required(m.hostPath, `config.mounts[${i}].host_path`);
    required(m.containerPath, `config.mounts[${i}].container_path`);
    return {
      Type: "bind",
      Source: m.hostPath,
      Target: m.containerPath,
      ReadOnly: m.readonly,
      BindOptions: { Propagation: PROPAGATION[m.propagation] ?? "rprivate" },
    };
  });
  const resources = linux?.resources;
  const hostConfig: Docker.HostConfig = {
    NetworkMode: `container:${sandbox.Id}`,
    IpcMode: ns?.ipc === NamespaceMode.NODE ? "host" : `container:${sandbox.Id}`,
    PidMode: pidMode(ns?.pid, sandbox.Id, ns?.targetId ?? ""),
    Mounts: mounts,
    RestartPolicy: { Name: "no" },
    ...dockerResources(resources),
  };
  if (resources !== undefined && resources.oomScoreAdj !== 0n) {
    hostConfig.OomScoreAdj = Number(resources.oomScoreAdj);
  }
  if (sandbox.HostConfig.CgroupParent) hostConfig.CgroupParent = sandbox.HostConfig.CgroupParent;
  if (security?.privileged) hostConfig.Privileged = true;
  if (security?.readonlyRootfs) hostConfig.ReadonlyRootfs = true;
  if (security?.capabilities !== undefined) {
    if (security.capabilities.addCapabilities.length > 0) {
      hostConfig.CapAdd = [...security.capabilities.addCapabilities];
    }
    if (security.capabilities.dropCapabilities.length > 0) {
      hostConfig.CapDrop = [...security.capabilities.dropCapabilities];
    }
  }
  if (security !== undefined && security.supplementalGroups.length > 0) {
    hostConfig.GroupAdd = security.supplementalGroups.map(String);
  }
  if (security?.noNewPrivs) hostConfig.SecurityOpt = ["no-new-privileges"];
  const options: Docker.ContainerCreateOptions = {
    name: containerName(name, pod, namespace, uid, attempt),
    Image: image,
    Env: config.envs.map((e) => `${e.key}=${e.value}`),
    Labels: labels,
    Tty: config.tty,
    OpenStdin: config.stdin,
    StdinOnce: config.stdinOnce,
    AttachStdin: config.stdin,
    HostConfig: hostConfig,
  };
  // Kubernetes' command/args are Docker's entrypoint/cmd; an explicit entrypoint makes Docker
  // ignore the image's CMD, as Kubernetes' rules require.
  if (config.command.length > 0) options.Entrypoint = [...config.command];
  if (config.args.length > 0) options.Cmd = [...config.args];
  if (config.workingDir !== "") options.WorkingDir = config.workingDir;
  const user = containerUser(security);
  if (user !== "") options.User = user;
  try {
    return (await ctx.docker.createContainer(options)).id;
  } catch (e) {
    throw toCriError(e, `create container ${options.name}`);
  }
}

function containerUser(
  security:
    | { runAsUser?: { value: bigint }; runAsUsername: string; runAsGroup?: { value: bigint } }
    | undefined,
): string {
  if (security === undefined) return "";
  const user =
    security.runAsUser !== undefined ? String(security.runAsUser.value) : security.runAsUsername;
  if (user === "") {
    if (security.runAsGroup !== undefined) {
      throw CriError.invalidArgument(
        "config.linux.security_context.run_as_group needs run_as_user or run_as_username",
      );
    }
    return "";
  }
  return security.runAsGroup !== undefined ? `${user}:${security.runAsGroup.value}` : user;
}

/** Inspects an app container; NOT_FOUND when the id names none of this runtime. */
export async function inspectContainer(
  ctx: RuntimeContext,
  id: string,
): Promise<Docker.ContainerInspectInfo> {
  required(id, "container_id");
  let info: Docker.ContainerInspectInfo;
  try {
    info = await ctx.docker.getContainer(id).inspect();
  } catch (e) {
    throw toCriError(e, `container "${id}" not found`);
  }
  if (!isOwned(info.Config.Labels, ctx.instance, TYPE_CONTAINER)) {
    throw CriError.notFound(`container "${id}" not found (it is not a CRI container)`);
  }
  return info;
}

/** Starts copying a container's output into its CRI log file, unless already copying. */
export function followLogs(ctx: RuntimeContext, info: Docker.ContainerInspectInfo): void {
  const logPath = info.Config.Labels?.[LABEL.logPath] ?? "";
  if (logPath === "" || ctx.logCopiers.has(info.Id)) return;
  const copier = new LogCopier(ctx.docker.getContainer(info.Id), logPath, info.Config.Tty, (e) =>
    ctx.onBackgroundError(`copy the log of container ${info.Id} to ${logPath}`, e),
  );
  ctx.logCopiers.set(info.Id, copier);
  void copier.done.then(() => {
    if (ctx.logCopiers.get(info.Id) === copier) ctx.logCopiers.delete(info.Id);
  });
}

/** StartContainer: starts it and begins copying its output to the CRI log path. */
export async function startContainer(ctx: RuntimeContext, id: string): Promise<void> {
  const info = await inspectContainer(ctx, id);
  try {
    await ctx.docker.getContainer(info.Id).start();
  } catch (e) {
    throw toCriError(e, `start container ${id}`);
  }
  followLogs(ctx, info);
}

/**
 * StopContainer: SIGTERM (or the image's stop signal), SIGKILL after `timeout` seconds.
 * Idempotent: a stopped or missing container is not an error.
 */
export async function stopContainer(
  ctx: RuntimeContext,
  id: string,
  timeout: bigint,
): Promise<void> {
  const info = await ownedOrGone(ctx, id);
  if (info === undefined) return;
  await stopQuietly(ctx.docker.getContainer(info.Id), Number(timeout < 0n ? 0n : timeout));
}

/** RemoveContainer: force-removes it. Idempotent: a missing container is not an error. */
export async function removeContainer(ctx: RuntimeContext, id: string): Promise<void> {
  const info = await ownedOrGone(ctx, id);
  if (info === undefined) return;
  await removeQuietly(ctx, info.Id);
}

/** The container, or undefined when this instance has no container `id` (it is gone). */
async function ownedOrGone(
  ctx: RuntimeContext,
  id: string,
): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await inspectContainer(ctx, id);
  } catch (e) {
    if (e instanceof CriError && e.code === status.NOT_FOUND) return undefined;
    throw e;
  }
}

function containerState(dockerState: string): ContainerState {
  switch (dockerState) {
    case "created":
      return ContainerState.CONTAINER_CREATED;
    case "running":
    case "paused":
    case "restarting":
      return ContainerState.CONTAINER_RUNNING;
    case "exited":
    case "dead":
      return ContainerState.CONTAINER_EXITED;
    default:
      return ContainerState.CONTAINER_UNKNOWN;
  }
}

/** CRI's reason of an exited container: OOMKilled, Completed (exit 0) or Error. */
function exitReason(state: Docker.ContainerInspectInfo["State"]): string {
  if (state.OOMKilled) return "OOMKilled";
  return state.ExitCode === 0 ? "Completed" : "Error";
}

function statusMounts(info: Docker.ContainerInspectInfo): Mount[] {
  return (info.HostConfig.Mounts ?? []).map(
    (m) =>
      ({
        containerPath: m.Target,
        hostPath: m.Source,
        readonly: m.ReadOnly ?? false,
        propagation:
          m.BindOptions?.Propagation === "rshared"
            ? MountPropagation.PROPAGATION_BIDIRECTIONAL
            : m.BindOptions?.Propagation === "rslave"
              ? MountPropagation.PROPAGATION_HOST_TO_CONTAINER
              : MountPropagation.PROPAGATION_PRIVATE,
      }) as Mount,
  );
}

/** ContainerStatus: state, times in ns, exit code and reason, image, labels, mounts, log path. */
export async function containerStatus(
  ctx: RuntimeContext,
  id: string,
): Promise<ContainerStatusResponse> {
  const info = await inspectContainer(ctx, id);
  const labels = info.Config.Labels ?? {};
  const cri = dockerToCriLabels(labels);
  const state = containerState(info.State.Status);
  const exited = state === ContainerState.CONTAINER_EXITED;
  const host = info.HostConfig;
  return create(ContainerStatusResponseSchema, {
    status: {
      id: info.Id,
      metadata: {
        name: labels[LABEL.containerName] ?? "",
        attempt: labelNumber(labels, LABEL.containerAttempt),
      },
      state,
      createdAt: rfc3339ToNanos(info.Created),
      startedAt: rfc3339ToNanos(info.State.StartedAt),
      finishedAt: exited ? rfc3339ToNanos(info.State.FinishedAt) : 0n,
      exitCode: exited ? info.State.ExitCode : 0,
      image: { image: info.Config.Image },
      imageRef: info.Image,
      imageId: info.Image,
      reason: exited ? exitReason(info.State) : "",
      message: info.State.Error ?? "",
      labels: cri.labels,
      annotations: cri.annotations,
      mounts: statusMounts(info),
      logPath: labels[LABEL.logPath] ?? "",
      resources: {
        linux: {
          cpuPeriod: BigInt(host.CpuPeriod ?? 0),
          cpuQuota: BigInt(host.CpuQuota ?? 0),
          cpuShares: BigInt(host.CpuShares ?? 0),
          memoryLimitInBytes: BigInt(host.Memory ?? 0),
          oomScoreAdj: BigInt(host.OomScoreAdj ?? 0),
          cpusetCpus: host.CpusetCpus ?? "",
          cpusetMems: host.CpusetMems ?? "",
        },
      },
    },
  });
}

/** ListContainers with CRI's filter (id, state, sandbox id, label selector; ANDed). */
export async function listContainers(
  ctx: RuntimeContext,
  req: ListContainersRequest,
): Promise<ListContainersResponse> {
  const filter = req.filter;
  const labels = [
    ...ownedFilters(ctx.instance, TYPE_CONTAINER),
    ...labelFilters(filter?.labelSelector ?? {}),
  ];
  if (filter?.podSandboxId) labels.push(`${LABEL.sandboxId}=${filter.podSandboxId}`);
  const filters: Record<string, string[]> = { label: labels };
  if (filter?.id) filters.id = [filter.id];
  let list: Docker.ContainerInfo[];
  try {
    list = await ctx.docker.listContainers({ all: true, filters });
  } catch (e) {
    throw toCriError(e, "list containers");
  }
  const containers: Container[] = [];
  for (const c of list) {
    const state = containerState(c.State);
    if (filter?.state !== undefined && filter.state.state !== state) continue;
    const l = c.Labels ?? {};
    const cri = dockerToCriLabels(l);
    containers.push(
      create(ContainerSchema, {
        id: c.Id,
        podSandboxId: l[LABEL.sandboxId] ?? "",
        metadata: {
          name: l[LABEL.containerName] ?? "",
          attempt: labelNumber(l, LABEL.containerAttempt),
        },
        image: { image: c.Image },
        imageRef: c.ImageID,
        imageId: c.ImageID,
        state,
        createdAt: BigInt(c.Created) * 1_000_000_000n,
        labels: cri.labels,
        annotations: cri.annotations,
      }),
    );
  }
  return create(ListContainersResponseSchema, { containers });
}

/**
 * UpdateContainerResources with `docker update`: CPU shares, period, quota, memory, cpusets.
 * Docker cannot change the OOM score of a created container; oom_score_adj is ignored here.
 */
export async function updateContainerResources(
  ctx: RuntimeContext,
  id: string,
  resources: LinuxContainerResources | undefined,
): Promise<void> {
  const info = await inspectContainer(ctx, id);
  const update = dockerResources(resources);
  if (Object.keys(update).length === 0) return;
  try {
    await ctx.docker.getContainer(info.Id).update(update);
  } catch (e) {
    throw toCriError(e, `update the resources of container ${id}`);
  }
}

/**
 * ReopenContainerLog: the log copier closes and reopens the file (after the agent rotated it).
 * A container that is not running has no copier: CRI lets the runtime refuse, and then no new
 * file may be created.
 */
export async function reopenContainerLog(ctx: RuntimeContext, id: string): Promise<void> {
  const info = await inspectContainer(ctx, id);
  const copier = ctx.logCopiers.get(info.Id);
  if (!info.State.Running || copier === undefined) {
    throw CriError.failedPrecondition(
      `container ${id} is not running; its log cannot be reopened (start it first)`,
    );
  }
  copier.reopen();
}
