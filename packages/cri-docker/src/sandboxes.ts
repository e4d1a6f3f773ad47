// Pod sandboxes as Docker containers, the way cri-dockerd maps them: a sandbox is a pause
// container that holds the pod's network (and IPC, and optionally PID) namespace; the pod's
// containers join those namespaces. CRI: RunPodSandbox, StopPodSandbox, RemovePodSandbox,
// PodSandboxStatus, ListPodSandbox (k8s.io/cri-api runtime/v1 api.proto).

import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import type Docker from "dockerode";
import {
  criToDockerLabels,
  dockerToCriLabels,
  isOwned,
  LABEL,
  labelFilters,
  labelNumber,
  ownedFilters,
  sandboxName,
  TYPE_CONTAINER,
  TYPE_SANDBOX,
} from "./container-labels.js";
import { CriError, isDockerNotFound, toCriError } from "./cri-error.js";
import { rfc3339ToNanos } from "./docker-time.js";
import {
  type ListPodSandboxRequest,
  type ListPodSandboxResponse,
  ListPodSandboxResponseSchema,
  NamespaceMode,
  type NamespaceOption,
  NamespaceOptionSchema,
  type PodSandbox,
  type PodSandboxConfig,
  PodSandboxSchema,
  PodSandboxState,
  type PodSandboxStatusResponse,
  PodSandboxStatusResponseSchema,
  Protocol,
  type RunPodSandboxRequest,
} from "./gen/cri/api_pb.js";
import { ensureImage } from "./images.js";
import { podIp, podNetworkMode } from "./pod-network.js";
import { writeResolvConf } from "./resolv-conf.js";
import type { RuntimeContext } from "./runtime-context.js";

/**
 * Runtime handlers this runtime accepts: "" (the default) and the names of Docker's default
 * OCI runtime. CRI: "If the runtime handler is unknown, this request should be rejected."
 */
const RUNTIME_HANDLERS = new Set(["", "runc", "docker"]);

/** Seconds a sandbox's pause process gets to exit on SIGTERM before SIGKILL (cri-dockerd's 10). */
const SANDBOX_STOP_GRACE_S = 10;

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === "") {
    throw CriError.invalidArgument(`${field} is required; set it in the request`);
  }
  return value;
}

/** Docker's "port/proto" key of a CRI port mapping. */
function portKey(port: number, protocol: Protocol): string {
  const proto = protocol === Protocol.UDP ? "udp" : protocol === Protocol.SCTP ? "sctp" : "tcp";
  return `${port}/${proto}`;
}

/** The create options of a sandbox's pause container for a PodSandboxConfig. */
function sandboxCreateOptions(
  config: PodSandboxConfig,
  pauseImage: string,
  runtimeHandler: string,
  instance: string,
  podNetwork: string,
): Docker.ContainerCreateOptions {
  const md = config.metadata;
  const name = required(md?.name, "config.metadata.name");
  const namespace = required(md?.namespace, "config.metadata.namespace");
  const uid = required(md?.uid, "config.metadata.uid");
  const attempt = md?.attempt ?? 0;
  const ns = config.linux?.securityContext?.namespaceOptions;
  const hostNetwork = ns?.network === NamespaceMode.NODE;
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const pm of config.portMappings) {
    if (pm.containerPort <= 0) {
      throw CriError.invalidArgument(
        `config.port_mappings: container_port ${pm.containerPort} is invalid; use 1-65535`,
      );
    }
    const key = portKey(pm.containerPort, pm.protocol);
    exposed[key] = {};
    if (pm.hostPort > 0) {
      const list = bindings[key] ?? [];
      list.push({ HostIp: pm.hostIp, HostPort: String(pm.hostPort) });
      bindings[key] = list;
    }
  }
  const dns = config.dnsConfig;
  const security = config.linux?.securityContext;
  const labels: Record<string, string> = {
    ...criToDockerLabels(config.labels, config.annotations),
    [LABEL.type]: TYPE_SANDBOX,
    [LABEL.instance]: instance,
    [LABEL.podName]: name,
    [LABEL.podNamespace]: namespace,
    [LABEL.podUid]: uid,
    [LABEL.sandboxAttempt]: String(attempt),
    [LABEL.logDirectory]: config.logDirectory,
    [LABEL.runtimeHandler]: runtimeHandler,
  };
  const hostConfig: Docker.HostConfig = {
    NetworkMode: podNetworkMode(hostNetwork, podNetwork),
    // "shareable" so that the pod's containers can join it with IpcMode container:<sandbox>.
    IpcMode: ns?.ipc === NamespaceMode.NODE ? "host" : "shareable",
    PortBindings: bindings,
    RestartPolicy: { Name: "no" },
  };
  if (ns?.pid === NamespaceMode.NODE) hostConfig.PidMode = "host";
  if (!hostNetwork) {
    if (dns !== undefined && dns.servers.length > 0) hostConfig.Dns = [...dns.servers];
    if (dns !== undefined && dns.searches.length > 0) hostConfig.DnsSearch = [...dns.searches];
    if (dns !== undefined && dns.options.length > 0) hostConfig.DnsOptions = [...dns.options];
  }
  if (config.linux?.cgroupParent) hostConfig.CgroupParent = config.linux.cgroupParent;
  const sysctls = config.linux?.sysctls ?? {};
  if (Object.keys(sysctls).length > 0) hostConfig.Sysctls = { ...sysctls };
  if (security?.privileged) hostConfig.Privileged = true;
  if (security?.readonlyRootfs) hostConfig.ReadonlyRootfs = true;
  const options: Docker.ContainerCreateOptions = {
    name: sandboxName(name, namespace, uid, attempt),
    Image: pauseImage,
    Labels: labels,
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
  // Docker refuses a hostname together with the host's network namespace.
  if (!hostNetwork && config.hostname !== "") options.Hostname = config.hostname;
  if (security?.runAsUser !== undefined) {
    const group = security.runAsGroup !== undefined ? `:${security.runAsGroup.value}` : "";
    options.User = `${security.runAsUser.value}${group}`;
  }
  return options;
}

/**
 * RunPodSandbox: creates and starts the pause container; returns its id. A sandbox of the same
 * name (same pod uid and attempt) left by an earlier try is adopted when it runs, and replaced
 * when it does not, so a retried call never leaves two.
 */
export async function runPodSandbox(
  ctx: RuntimeContext,
  req: RunPodSandboxRequest,
): Promise<string> {
  if (req.config === undefined) throw CriError.invalidArgument("config is required");
  if (!RUNTIME_HANDLERS.has(req.runtimeHandler)) {
    throw CriError.invalidArgument(
      `runtime_handler "${req.runtimeHandler}" is unknown; use "" (the default) or "runc"`,
    );
  }
  const options = sandboxCreateOptions(
    req.config,
    ctx.pauseImage,
    req.runtimeHandler,
    ctx.instance,
    ctx.podNetwork,
  );
  await ensureImage(ctx.docker, ctx.pauseImage);
  const existing = await findByName(ctx.docker, options.name ?? "");
  if (existing !== undefined) {
    if (!isOwned(existing.Config.Labels, ctx.instance, TYPE_SANDBOX)) {
      throw CriError.failedPrecondition(
        `a container named ${options.name} exists and is not a sandbox of this runtime instance; remove it or run with another --instance`,
      );
    }
    if (existing.State.Running) return existing.Id;
    await ctx.docker
      .getContainer(existing.Id)
      .remove({ force: true })
      .catch((e: unknown) => {
        if (!isDockerNotFound(e)) throw toCriError(e, `remove stale sandbox ${existing.Id}`);
      });
  }
  let id: string;
  try {
    id = (await ctx.docker.createContainer(options)).id;
  } catch (e) {
    throw toCriError(e, `create sandbox container ${options.name}`);
  }
  try {
    await ctx.docker.getContainer(id).start();
    const dns = req.config.dnsConfig;
    const hostNetwork = options.HostConfig?.NetworkMode === "host";
    if (!hostNetwork && dns !== undefined && dns.servers.length + dns.searches.length > 0) {
      const info = await ctx.docker.getContainer(id).inspect();
      writeResolvConf(info.ResolvConfPath, dns);
    }
  } catch (e) {
    // Nothing half-made stays behind: the caller retries with a clean slate.
    await ctx.docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
    throw toCriError(e, `start sandbox container ${options.name}`);
  }
  return id;
}

async function findByName(
  docker: Docker,
  name: string,
): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (e) {
    if (isDockerNotFound(e)) return undefined;
    throw toCriError(e, `inspect container ${name}`);
  }
}

/** Inspects a sandbox; NOT_FOUND when the id names no sandbox of this runtime. */
export async function inspectSandbox(
  ctx: RuntimeContext,
  id: string,
): Promise<Docker.ContainerInspectInfo> {
  required(id, "pod_sandbox_id");
  let info: Docker.ContainerInspectInfo;
  try {
    info = await ctx.docker.getContainer(id).inspect();
  } catch (e) {
    throw toCriError(e, `pod sandbox "${id}" not found`);
  }
  if (!isOwned(info.Config.Labels, ctx.instance, TYPE_SANDBOX)) {
    throw CriError.notFound(`pod sandbox "${id}" not found (the container is not a pod sandbox)`);
  }
  return info;
}

/** The containers of a sandbox (every state). */
async function sandboxContainers(
  ctx: RuntimeContext,
  sandboxId: string,
): Promise<Docker.ContainerInfo[]> {
  try {
    return await ctx.docker.listContainers({
      all: true,
      filters: {
        label: [...ownedFilters(ctx.instance, TYPE_CONTAINER), `${LABEL.sandboxId}=${sandboxId}`],
      },
    });
  } catch (e) {
    throw toCriError(e, `list the containers of sandbox ${sandboxId}`);
  }
}

/**
 * StopPodSandbox: kills the sandbox's containers (the agent stopped them gracefully before)
 * and stops the pause container. Idempotent: a missing or stopped sandbox is not an error.
 */
export async function stopPodSandbox(ctx: RuntimeContext, id: string): Promise<void> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await inspectSandbox(ctx, id);
  } catch (e) {
    if (e instanceof CriError && e.code === status.NOT_FOUND) return;
    throw e;
  }
  for (const c of await sandboxContainers(ctx, info.Id)) {
    if (c.State !== "running") continue;
    await stopQuietly(ctx.docker.getContainer(c.Id), 0);
  }
  await stopQuietly(ctx.docker.getContainer(info.Id), SANDBOX_STOP_GRACE_S);
}

/** docker stop that treats "already stopped" (304) and "gone" (404) as done. */
export async function stopQuietly(
  container: Docker.Container,
  graceSeconds: number,
): Promise<void> {
  try {
    await container.stop({ t: graceSeconds });
  } catch (e) {
    const code = (e as { statusCode?: number }).statusCode;
    if (code === 304 || code === 404) return;
    throw toCriError(e, `stop container ${container.id}`);
  }
}

/**
 * RemovePodSandbox: force-removes the sandbox's containers and the pause container.
 * Idempotent: removing a missing sandbox is not an error.
 */
export async function removePodSandbox(ctx: RuntimeContext, id: string): Promise<void> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await inspectSandbox(ctx, id);
  } catch (e) {
    if (e instanceof CriError && e.code === status.NOT_FOUND) return;
    throw e;
  }
  for (const c of await sandboxContainers(ctx, info.Id)) {
    await removeQuietly(ctx, c.Id);
  }
  await removeQuietly(ctx, info.Id);
}

/** docker rm -f that treats "gone" as done; stops the container's log copier first. */
export async function removeQuietly(ctx: RuntimeContext, id: string): Promise<void> {
  const copier = ctx.logCopiers.get(id);
  try {
    await ctx.docker.getContainer(id).remove({ force: true });
  } catch (e) {
    if (!isDockerNotFound(e)) throw toCriError(e, `remove container ${id}`);
  }
  if (copier !== undefined) {
    ctx.logCopiers.delete(id);
    await copier.stop();
  }
}

function sandboxState(running: boolean): PodSandboxState {
  return running ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
}

function sandboxMetadata(labels: Readonly<Record<string, string>>) {
  return {
    name: labels[LABEL.podName] ?? "",
    namespace: labels[LABEL.podNamespace] ?? "",
    uid: labels[LABEL.podUid] ?? "",
    attempt: labelNumber(labels, LABEL.sandboxAttempt),
  };
}

function namespaceOptions(host: Docker.HostConfig): NamespaceOption {
  return create(NamespaceOptionSchema, {
    network: host.NetworkMode === "host" ? NamespaceMode.NODE : NamespaceMode.POD,
    pid: host.PidMode === "host" ? NamespaceMode.NODE : NamespaceMode.CONTAINER,
    ipc: host.IpcMode === "host" ? NamespaceMode.NODE : NamespaceMode.POD,
  });
}

/** PodSandboxStatus: state, creation time, the pod IP, labels and annotations. */
export async function podSandboxStatus(
  ctx: RuntimeContext,
  id: string,
): Promise<PodSandboxStatusResponse> {
  const info = await inspectSandbox(ctx, id);
  const labels = info.Config.Labels ?? {};
  const cri = dockerToCriLabels(labels);
  return create(PodSandboxStatusResponseSchema, {
    status: {
      id: info.Id,
      metadata: sandboxMetadata(labels),
      state: sandboxState(info.State.Running),
      createdAt: rfc3339ToNanos(info.Created),
      network: { ip: podIp(info, ctx.podNetwork) },
      linux: { namespaces: { options: namespaceOptions(info.HostConfig) } },
      labels: cri.labels,
      annotations: cri.annotations,
      runtimeHandler: labels[LABEL.runtimeHandler] ?? "",
    },
  });
}

/**
 * ListPodSandbox with CRI's filter (id, state, label selector; ANDed). created_at comes from
 * Docker's list, which has second precision (as in cri-dockerd); PodSandboxStatus is exact.
 */
export async function listPodSandbox(
  ctx: RuntimeContext,
  req: ListPodSandboxRequest,
): Promise<ListPodSandboxResponse> {
  const filter = req.filter;
  const filters: Record<string, string[]> = {
    label: [
      ...ownedFilters(ctx.instance, TYPE_SANDBOX),
      ...labelFilters(filter?.labelSelector ?? {}),
    ],
  };
  if (filter?.id) filters.id = [filter.id];
  let list: Docker.ContainerInfo[];
  try {
    list = await ctx.docker.listContainers({ all: true, filters });
  } catch (e) {
    throw toCriError(e, "list pod sandboxes");
  }
  const items: PodSandbox[] = [];
  for (const c of list) {
    const state = sandboxState(c.State === "running");
    if (filter?.state !== undefined && filter.state.state !== state) continue;
    const cri = dockerToCriLabels(c.Labels);
    items.push(
      create(PodSandboxSchema, {
        id: c.Id,
        metadata: sandboxMetadata(c.Labels ?? {}),
        state,
        createdAt: BigInt(c.Created) * 1_000_000_000n,
        labels: cri.labels,
        annotations: cri.annotations,
        runtimeHandler: c.Labels?.[LABEL.runtimeHandler] ?? "",
      }),
    );
  }
  return create(ListPodSandboxResponseSchema, { items });
}
