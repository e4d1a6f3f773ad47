// The CRI ContainerConfig of one container of a pod (the kubelet's generateContainerConfig):
// command and args (with $(VAR) expanded from the container's env), env, working dir, mounts
// from the prepared volumes, labels and annotations for adoption, the CRI log path, and
// resources as Linux cgroup limits (pkg/kubelet/kuberuntime/kuberuntime_container_linux.go).

import { create } from "@bufbuild/protobuf";
import { type Container, type Pod, Quantity } from "@tug/api";
import { cri } from "@tug/cri-docker";
import { containerLabels, POD_ANNOTATION } from "../runtime/pod-labels.js";
import type { PreparedVolume } from "../volumes/volume-manager.js";
import { ContainerConfigError } from "./container-config-error.js";
import { type EnvEntry, expandEnvReferences } from "./container-env.js";

/** Where a container writes its termination message unless it says otherwise (the API default). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";

/** The CFS period the kubelet uses for CPU limits (100 ms). */
export const CPU_PERIOD_US = 100_000n;
/** Lowest cpu.shares the kernel accepts (the kubelet's MinShares). */
const MIN_SHARES = 2n;
/** cpu.shares of one whole CPU. */
const SHARES_PER_CPU = 1024n;
/** Shortest CFS quota the kubelet sets (1 ms). */
const MIN_QUOTA_US = 1000n;

/** CRI Linux resources of a container: requests.cpu → shares, limits.cpu → quota, limits.memory. */
export function linuxResources(container: Container): cri.LinuxContainerResources {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const out = create(cri.LinuxContainerResourcesSchema, {});
  const cpuRequest = requests.cpu ?? limits.cpu;
  if (cpuRequest !== undefined) {
    const shares = (Quantity.parse(cpuRequest).milliValue() * SHARES_PER_CPU) / 1000n;
    out.cpuShares = shares < MIN_SHARES ? MIN_SHARES : shares;
  }
  if (limits.cpu !== undefined) {
    let quota = (Quantity.parse(limits.cpu).milliValue() * CPU_PERIOD_US) / 1000n;
    if (quota < MIN_QUOTA_US) quota = MIN_QUOTA_US;
    out.cpuQuota = quota;
    out.cpuPeriod = CPU_PERIOD_US;
  }
  if (limits.memory !== undefined) out.memoryLimitInBytes = Quantity.parse(limits.memory).value();
  return out;
}

/** The CRI log path of a container, relative to the sandbox's log directory. */
export function containerLogPath(name: string, attempt: number): string {
  return `${name}/${attempt}.log`;
}

/** Inputs of a container's config. */
export interface ContainerConfigInput {
  node: string;
  pod: Pod;
  container: Container;
  kind: "init" | "app";
  attempt: number;
  env: readonly EnvEntry[];
  volumes: ReadonlyMap<string, PreparedVolume>;
  imageRef: string;
  /** The host file to mount at terminationMessagePath; none: no termination message file. */
  terminationMessageHostPath?: string;
}

/** The ContainerConfig for CreateContainer. */
export function containerConfig(input: ContainerConfigInput): cri.ContainerConfig {
  const { pod, container } = input;
  const md = pod.metadata;
  const podRef = { name: md?.name ?? "", namespace: md?.namespace ?? "", uid: md?.uid ?? "" };
  const vars = new Map(input.env.map((e) => [e.name, e.value]));
  const mounts: cri.Mount[] = container.volumeMounts.map((m) => {
    const v = input.volumes.get(m.name);
    if (v === undefined) {
      throw new ContainerConfigError(
        `container ${container.name}: volumeMounts "${m.name}" names no volume of the pod`,
      );
    }
    const subPath = m.subPath !== "" ? m.subPath : expandEnvReferences(m.subPathExpr, vars);
    if (subPath.split("/").includes("..") || subPath.startsWith("/")) {
      throw new ContainerConfigError(
        `container ${container.name}: subPath "${subPath}" must be relative and must not contain '..'`,
      );
    }
    return create(cri.MountSchema, {
      containerPath: m.mountPath,
      hostPath: subPath === "" ? v.hostPath : `${v.hostPath}/${subPath}`,
      readonly: v.readOnly || m.readOnly === true,
      propagation:
        m.mountPropagation === "Bidirectional"
          ? cri.MountPropagation.PROPAGATION_BIDIRECTIONAL
          : m.mountPropagation === "HostToContainer"
            ? cri.MountPropagation.PROPAGATION_HOST_TO_CONTAINER
            : cri.MountPropagation.PROPAGATION_PRIVATE,
    });
  });
  const annotations: Record<string, string> = {
    [POD_ANNOTATION.terminationGracePeriod]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
  };
  const messagePath = container.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH;
  if (input.terminationMessageHostPath !== undefined) {
    annotations[POD_ANNOTATION.terminationMessageHostPath] = input.terminationMessageHostPath;
    annotations[POD_ANNOTATION.terminationMessagePolicy] =
      container.terminationMessagePolicy || "File";
    mounts.push(
      create(cri.MountSchema, {
        containerPath: messagePath,
        hostPath: input.terminationMessageHostPath,
      }),
    );
  }
  const preStop = container.lifecycle?.preStop?.exec?.command;
  if (preStop !== undefined && preStop.length > 0) {
    annotations[POD_ANNOTATION.preStopExec] = JSON.stringify(preStop);
  }
  const sc = container.securityContext;
  const podSc = pod.spec?.securityContext;
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? podSc?.runAsGroup;
  return create(cri.ContainerConfigSchema, {
    metadata: { name: container.name, attempt: input.attempt },
    image: { image: input.imageRef },
    command: container.command.map((c) => expandEnvReferences(c, vars)),
    args: container.args.map((a) => expandEnvReferences(a, vars)),
    workingDir: container.workingDir,
    envs: input.env.map((e) => ({ key: e.name, value: e.value })),
    mounts,
    labels: containerLabels(input.node, podRef, container.name, input.kind),
    annotations,
    logPath: containerLogPath(container.name, input.attempt),
    stdin: container.stdin,
    stdinOnce: container.stdinOnce,
    tty: container.tty,
    linux: {
      resources: linuxResources(container),
      securityContext: {
        privileged: sc?.privileged ?? false,
        readonlyRootfs: sc?.readOnlyRootFilesystem ?? false,
        ...(runAsUser !== undefined && { runAsUser: { value: BigInt(runAsUser) } }),
        ...(runAsGroup !== undefined && { runAsGroup: { value: BigInt(runAsGroup) } }),
        supplementalGroups: (podSc?.supplementalGroups ?? []).map((g) => BigInt(g)),
        ...(sc?.capabilities !== undefined && {
          capabilities: {
            addCapabilities: sc.capabilities.add,
            dropCapabilities: sc.capabilities.drop,
          },
        }),
        noNewPrivs: sc?.allowPrivilegeEscalation === false,
        namespaceOptions: {
          pid: pod.spec?.hostPid
            ? cri.NamespaceMode.NODE
            : pod.spec?.shareProcessNamespace
              ? cri.NamespaceMode.POD
              : cri.NamespaceMode.CONTAINER,
          ipc: pod.spec?.hostIpc ? cri.NamespaceMode.NODE : cri.NamespaceMode.POD,
          network: pod.spec?.hostNetwork ? cri.NamespaceMode.NODE : cri.NamespaceMode.POD,
        },
      },
    },
  });
}
