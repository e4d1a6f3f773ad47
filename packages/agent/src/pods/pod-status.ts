// A pod's status computed from what the runtime holds, the probe results and what the last
// sync decided (the kubelet's generateAPIPodStatus, getPhase and the pod condition helpers in
// pkg/kubelet/status/generate.go). Pure: no IO, `now` passed in.

import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Container,
  type ContainerState,
  ContainerStateSchema,
  type ContainerStatus,
  ContainerStatusSchema,
  type Pod,
  type PodCondition,
  PodConditionSchema,
  type PodStatus,
  PodStatusSchema,
} from "@tug/api";
import {
  latestContainer,
  previousContainer,
  type RuntimeContainer,
  type RuntimePod,
} from "../runtime/runtime-pod.js";

/** Why a container is waiting, as the last sync decided (CrashLoopBackOff, ErrImagePull ...). */
export interface WaitingReason {
  reason: string;
  message: string;
}

/** The key of a container in the waiting map and elsewhere: "init/<name>" or "app/<name>". */
export function containerKey(kind: "init" | "app", name: string): string {
  return `${kind}/${name}`;
}

/** Readiness as the probe manager reports it. */
export interface ReadinessView {
  ready(containerId: string, container: Container): boolean;
  startupDone(containerId: string, container: Container): boolean;
}

export interface PodStatusInput {
  pod: Pod;
  runtime: RuntimePod;
  /** The sandbox the pod's containers run in now; undefined when none is ready. */
  sandboxId: string | undefined;
  podIp: string;
  hostIp: string;
  waiting: ReadonlyMap<string, WaitingReason>;
  probes: ReadinessView;
  nowMs: number;
  /** Ends the pod with this phase, reason and message (activeDeadlineSeconds exceeded ...). */
  end?: { phase: "Failed" | "Succeeded"; reason: string; message: string };
}

/** CRI container ids are reported as "<runtime>://<id>", as the kubelet does. */
export const CONTAINER_ID_PREFIX = "docker://";

const TERMINAL = new Set(["Succeeded", "Failed"]);

function ts(ms: number): Timestamp | undefined {
  return ms > 0 ? timestampFromMs(ms) : undefined;
}

function terminated(c: RuntimeContainer): ContainerState {
  return create(ContainerStateSchema, {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason,
      message: c.message,
      startedAt: ts(c.startedAtMs),
      finishedAt: ts(c.finishedAtMs),
      containerId: CONTAINER_ID_PREFIX + c.id,
    },
  });
}

function waitingState(reason: string, message = ""): ContainerState {
  return create(ContainerStateSchema, { waiting: { reason, message } });
}

/** The status of one container from its newest and previous runtime containers. */
function containerStatus(
  input: PodStatusInput,
  container: Container,
  kind: "init" | "app",
  defaultWaiting: string,
): ContainerStatus {
  const latest = latestContainer(input.runtime, container.name, kind);
  const prev = previousContainer(input.runtime, container.name, kind);
  const override = input.waiting.get(containerKey(kind, container.name));
  const out = create(ContainerStatusSchema, {
    name: container.name,
    image: container.image,
    ready: false,
    restartCount: latest?.attempt ?? 0,
    started: false,
  });
  if (latest === undefined) {
    out.state = waitingState(override?.reason ?? defaultWaiting, override?.message ?? "");
    return out;
  }
  out.containerId = CONTAINER_ID_PREFIX + latest.id;
  out.imageId = latest.imageRef;
  switch (latest.state) {
    case "running": {
      out.state = create(ContainerStateSchema, {
        running: { startedAt: ts(latest.startedAtMs) },
      });
      if (prev?.state === "exited") out.lastState = terminated(prev);
      const current = latest.sandboxId === input.sandboxId;
      out.started = current && input.probes.startupDone(latest.id, container);
      out.ready = current && kind === "app" && input.probes.ready(latest.id, container);
      if (kind === "init") out.ready = false;
      break;
    }
    case "exited":
      if (override !== undefined) {
        out.state = waitingState(override.reason, override.message);
        out.lastState = terminated(latest);
      } else {
        out.state = terminated(latest);
        if (prev?.state === "exited") out.lastState = terminated(prev);
        // A completed init container is reported ready (the kubelet's convention).
        out.ready = kind === "init" && latest.exitCode === 0;
      }
      break;
    default:
      out.state = waitingState(override?.reason ?? "ContainerCreating", override?.message ?? "");
      if (prev?.state === "exited") out.lastState = terminated(prev);
  }
  return out;
}

/** Whether every init container has completed successfully (in the current sandbox). */
export function initialized(pod: Pod, rp: RuntimePod, sandboxId: string | undefined): boolean {
  return (pod.spec?.initContainers ?? []).every((c) => {
    const latest = latestContainer(rp, c.name, "init");
    return (
      latest !== undefined &&
      latest.state === "exited" &&
      latest.exitCode === 0 &&
      (sandboxId === undefined || latest.sandboxId === sandboxId)
    );
  });
}

/** The kubelet's getPhase over the computed container statuses. */
export function podPhase(
  pod: Pod,
  initStatuses: readonly ContainerStatus[],
  statuses: readonly ContainerStatus[],
): string {
  const policy = pod.spec?.restartPolicy || "Always";
  let pendingInit = false;
  for (const s of initStatuses) {
    const t = s.state?.terminated;
    if (t !== undefined && t.exitCode === 0) continue;
    if (t !== undefined && policy === "Never") return "Failed";
    const lastFailed =
      s.lastState?.terminated !== undefined && s.lastState.terminated.exitCode !== 0;
    if (s.state?.waiting !== undefined && lastFailed && policy === "Never") return "Failed";
    pendingInit = true;
  }
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running !== undefined) running++;
    else if (s.state?.terminated !== undefined) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting !== undefined) {
      if (s.lastState?.terminated !== undefined) {
        stopped++;
        if (s.lastState.terminated.exitCode === 0) succeeded++;
      } else waiting++;
    }
  }
  if (pendingInit) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

function condition(
  old: readonly PodCondition[],
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  nowMs: number,
): PodCondition {
  const status = ok ? "True" : "False";
  const prev = old.find((c) => c.type === type);
  return create(PodConditionSchema, {
    type,
    status,
    reason: ok ? "" : reason,
    message: ok ? "" : message,
    lastTransitionTime:
      prev !== undefined && prev.status === status && prev.lastTransitionTime !== undefined
        ? prev.lastTransitionTime
        : timestampFromMs(nowMs),
  });
}

/** The pod's whole status. */
export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const old = pod.status;
  const oldConditions = old?.conditions ?? [];
  const init = pod.spec?.initContainers ?? [];
  const initDone = initialized(pod, input.runtime, input.sandboxId);
  const initStatuses = init.map((c) => containerStatus(input, c, "init", "PodInitializing"));
  const statuses = (pod.spec?.containers ?? []).map((c) =>
    containerStatus(input, c, "app", initDone ? "ContainerCreating" : "PodInitializing"),
  );
  let phase = podPhase(pod, initStatuses, statuses);
  // A terminal phase is final (the kubelet never moves a pod out of Succeeded or Failed).
  if (TERMINAL.has(old?.phase ?? "")) phase = old?.phase ?? phase;
  else if (input.end !== undefined) phase = input.end.phase;
  const incompleteInit = initStatuses
    .filter((s) => !(s.state?.terminated !== undefined && s.state.terminated.exitCode === 0))
    .map((s) => s.name);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const completed = phase === "Succeeded";
  const gates = pod.spec?.readinessGates ?? [];
  const failedGates = gates
    .map((g) => g.conditionType)
    .filter((t) => oldConditions.find((c) => c.type === t)?.status !== "True");
  const conditions: PodCondition[] = [];
  const scheduled = oldConditions.find((c) => c.type === "PodScheduled");
  conditions.push(
    condition(
      oldConditions,
      "PodReadyToStartContainers",
      input.sandboxId !== undefined,
      "",
      "",
      input.nowMs,
    ),
  );
  conditions.push(
    condition(
      oldConditions,
      "Initialized",
      initDone,
      "ContainersNotInitialized",
      `containers with incomplete status: [${incompleteInit.join(" ")}]`,
      input.nowMs,
    ),
  );
  const containersReady = unready.length === 0 && !completed && statuses.length > 0;
  const notReadyReason = completed ? "PodCompleted" : "ContainersNotReady";
  const notReadyMessage = completed ? "" : `containers with unready status: [${unready.join(" ")}]`;
  conditions.push(
    condition(
      oldConditions,
      "ContainersReady",
      containersReady,
      notReadyReason,
      notReadyMessage,
      input.nowMs,
    ),
  );
  const ready = containersReady && failedGates.length === 0;
  conditions.push(
    condition(
      oldConditions,
      "Ready",
      ready,
      containersReady ? "ReadinessGatesNotReady" : notReadyReason,
      containersReady
        ? `corresponding condition of pod readiness gate "${failedGates.join(",")}" does not exist.`
        : notReadyMessage,
      input.nowMs,
    ),
  );
  if (scheduled !== undefined) conditions.push(scheduled);
  for (const c of oldConditions) {
    if (!conditions.some((x) => x.type === c.type)) conditions.push(c);
  }
  const podIp = input.podIp !== "" ? input.podIp : TERMINAL.has(phase) ? (old?.podIp ?? "") : "";
  return create(PodStatusSchema, {
    phase,
    conditions,
    message: input.end?.message ?? old?.message ?? "",
    reason: input.end?.reason ?? old?.reason ?? "",
    nominatedNodeName: old?.nominatedNodeName ?? "",
    hostIp: input.hostIp,
    hostIps: input.hostIp === "" ? [] : [{ ip: input.hostIp }],
    podIp,
    podIps: podIp === "" ? [] : [{ ip: podIp }],
    startTime: old?.startTime ?? timestampFromMs(input.nowMs),
    initContainerStatuses: initStatuses,
    containerStatuses: statuses,
    qosClass: old?.qosClass ?? "",
    observedGeneration: pod.metadata?.generation ?? 0,
  });
}
