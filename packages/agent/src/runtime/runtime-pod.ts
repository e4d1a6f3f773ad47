// What the runtime holds for one pod, read through CRI alone (ListPodSandbox, ListContainers and
// ContainerStatus filtered by the agent's labels): the agent's only source of truth about
// containers, so that it can be restarted at any moment and pick up where it was.

import { readFileSync } from "node:fs";
import { type CriClient, cri } from "@tug/cri-docker";
import { CriLogParser, readFrom } from "../server/cri-log-reader.js";
import { POD_ANNOTATION, POD_LABEL } from "./pod-labels.js";

/** The kubelet's cap on a termination message read from its file. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** FallbackToLogsOnError: the last this many log lines ... */
export const FALLBACK_LOG_LINES = 80;
/** ... and at most this many bytes of them. */
export const FALLBACK_LOG_BYTES = 2048;

/**
 * The termination message of an exited container (the kubelet's rules): the file it wrote at
 * terminationMessagePath, capped; if empty, with FallbackToLogsOnError and a failure, the tail
 * of its log.
 */
export function terminationMessage(
  annotations: Readonly<Record<string, string>>,
  logPath: string,
  exitCode: number,
): string {
  const file = annotations[POD_ANNOTATION.terminationMessageHostPath];
  let message = "";
  if (file !== undefined) {
    try {
      message = readFileSync(file).subarray(0, MAX_TERMINATION_MESSAGE_BYTES).toString("utf8");
    } catch {
      message = "";
    }
  }
  if (message !== "" || exitCode === 0) return message;
  if (annotations[POD_ANNOTATION.terminationMessagePolicy] !== "FallbackToLogsOnError") return "";
  if (logPath === "") return "";
  const lines = new CriLogParser().push(readFrom(logPath, 0).text).slice(-FALLBACK_LOG_LINES);
  const text = lines.map((l) => `${l.content}\n`).join("");
  return Buffer.from(text).subarray(-FALLBACK_LOG_BYTES).toString("utf8");
}

/** A container's state as the agent reasons about it. */
export type RuntimeContainerState = "created" | "running" | "exited" | "unknown";

/** One CRI container of a pod, with the status fields the agent needs. */
export interface RuntimeContainer {
  readonly id: string;
  readonly name: string;
  readonly kind: "init" | "app";
  readonly attempt: number;
  readonly sandboxId: string;
  readonly state: RuntimeContainerState;
  /** Milliseconds since the epoch; 0 when unknown. */
  readonly createdAtMs: number;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly exitCode: number;
  /** CRI's reason of an exited container: OOMKilled, Completed or Error. */
  readonly reason: string;
  readonly message: string;
  readonly image: string;
  readonly imageRef: string;
  readonly logPath: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/** One CRI sandbox of a pod. */
export interface RuntimeSandbox {
  readonly id: string;
  readonly attempt: number;
  readonly ready: boolean;
  readonly createdAtMs: number;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Everything of one pod in the runtime; lists newest first. */
export interface RuntimePod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly sandboxes: readonly RuntimeSandbox[];
  readonly containers: readonly RuntimeContainer[];
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

function stateOf(s: cri.ContainerState): RuntimeContainerState {
  switch (s) {
    case cri.ContainerState.CONTAINER_CREATED:
      return "created";
    case cri.ContainerState.CONTAINER_RUNNING:
      return "running";
    case cri.ContainerState.CONTAINER_EXITED:
      return "exited";
    default:
      return "unknown";
  }
}

/** The CRI sandboxes of this node (all pods), optionally of one pod. */
export async function listSandboxes(
  runtime: CriClient,
  node: string,
  uid?: string,
): Promise<cri.PodSandbox[]> {
  const selector: Record<string, string> = { [POD_LABEL.node]: node };
  if (uid !== undefined) selector[POD_LABEL.podUid] = uid;
  return (await runtime.runtime.listPodSandbox({ filter: { labelSelector: selector } })).items;
}

/** The CRI containers of this node (all pods), optionally of one pod. */
export async function listContainers(
  runtime: CriClient,
  node: string,
  uid?: string,
): Promise<cri.Container[]> {
  const selector: Record<string, string> = { [POD_LABEL.node]: node };
  if (uid !== undefined) selector[POD_LABEL.podUid] = uid;
  return (await runtime.runtime.listContainers({ filter: { labelSelector: selector } })).containers;
}

/** Reads a pod's sandboxes and containers (with their statuses) from the runtime. */
export async function readRuntimePod(
  runtime: CriClient,
  node: string,
  pod: { uid: string; name: string; namespace: string },
): Promise<RuntimePod> {
  const [sandboxList, containerList] = await Promise.all([
    listSandboxes(runtime, node, pod.uid),
    listContainers(runtime, node, pod.uid),
  ]);
  const sandboxes: RuntimeSandbox[] = sandboxList.map((s) => ({
    id: s.id,
    attempt: s.metadata?.attempt ?? 0,
    ready: s.state === cri.PodSandboxState.SANDBOX_READY,
    createdAtMs: nsToMs(s.createdAt),
    annotations: s.annotations,
  }));
  sandboxes.sort((a, b) => b.attempt - a.attempt || b.createdAtMs - a.createdAtMs);
  const containers: RuntimeContainer[] = [];
  for (const c of containerList) {
    let st: cri.ContainerStatus | undefined;
    try {
      st = (await runtime.runtime.containerStatus({ containerId: c.id })).status;
    } catch {
      continue; // removed between list and status
    }
    if (st === undefined) continue;
    containers.push({
      id: c.id,
      name: c.labels[POD_LABEL.containerName] ?? c.metadata?.name ?? "",
      kind: c.labels[POD_LABEL.containerKind] === "init" ? "init" : "app",
      attempt: c.metadata?.attempt ?? 0,
      sandboxId: c.podSandboxId,
      state: stateOf(st.state),
      createdAtMs: nsToMs(st.createdAt),
      startedAtMs: nsToMs(st.startedAt),
      finishedAtMs: nsToMs(st.finishedAt),
      exitCode: st.exitCode,
      reason: st.reason,
      message:
        stateOf(st.state) === "exited"
          ? terminationMessage(st.annotations, st.logPath, st.exitCode) || st.message
          : st.message,
      image: st.image?.image ?? c.image?.image ?? "",
      imageRef: st.imageRef,
      logPath: st.logPath,
      annotations: st.annotations,
    });
  }
  containers.sort((a, b) => b.attempt - a.attempt || b.createdAtMs - a.createdAtMs);
  return { ...pod, sandboxes, containers };
}

/** The newest container named `name` of the given kind, if any. */
export function latestContainer(
  rp: RuntimePod,
  name: string,
  kind: "init" | "app",
): RuntimeContainer | undefined {
  return rp.containers.find((c) => c.name === name && c.kind === kind);
}

/** The container before the newest one named `name` (for lastState and --previous). */
export function previousContainer(
  rp: RuntimePod,
  name: string,
  kind: "init" | "app",
): RuntimeContainer | undefined {
  return rp.containers.filter((c) => c.name === name && c.kind === kind)[1];
}

/** The grace period recorded on a container, for killing it when its pod is gone. */
export function recordedGraceSeconds(c: RuntimeContainer, fallback: number): number {
  const n = Number.parseInt(c.annotations[POD_ANNOTATION.terminationGracePeriod] ?? "", 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
