// Container garbage collection (the kubelet's containerGC): of the exited containers of each
// pod container, only the newest --maximum-dead-containers-per-container are kept (at least
// one, so the last exit stays visible in the status and to `tug logs --previous`); sandboxes
// that are not ready and hold no container, other than the newest of their pod, are removed.
// Pods that are gone are removed whole by the pod workers, not here.
// https://kubernetes.io/docs/concepts/architecture/garbage-collection/#containers-images

import { type CriClient, cri } from "@tug/cri-docker";
import { POD_LABEL } from "../runtime/pod-labels.js";
import { listContainers, listSandboxes } from "../runtime/runtime-pod.js";

/** The kubelet's default --maximum-dead-containers-per-container. */
export const MAX_DEAD_PER_CONTAINER = 1;
/** How often GC runs (the kubelet's ContainerGCPeriod, 1 minute). */
export const CONTAINER_GC_PERIOD_MS = 60_000;

/** Removes dead containers and empty old sandboxes of this node; returns how many it removed. */
export async function collectGarbage(
  runtime: CriClient,
  node: string,
  maxDeadPerContainer: number,
): Promise<{ containers: number; sandboxes: number }> {
  const keep = Math.max(1, maxDeadPerContainer);
  const containers = await listContainers(runtime, node);
  const dead = new Map<string, cri.Container[]>();
  for (const c of containers) {
    if (c.state !== cri.ContainerState.CONTAINER_EXITED) continue;
    const key = `${c.labels[POD_LABEL.podUid] ?? ""}/${c.labels[POD_LABEL.containerKind] ?? ""}/${c.labels[POD_LABEL.containerName] ?? ""}`;
    const list = dead.get(key) ?? [];
    list.push(c);
    dead.set(key, list);
  }
  let removedContainers = 0;
  for (const list of dead.values()) {
    list.sort(
      (a, b) =>
        (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) ||
        Number(b.createdAt - a.createdAt),
    );
    for (const c of list.slice(keep)) {
      await runtime.runtime.removeContainer({ containerId: c.id }).catch(() => undefined);
      removedContainers++;
    }
  }
  const remaining = new Set((await listContainers(runtime, node)).map((c) => c.podSandboxId));
  const sandboxes = await listSandboxes(runtime, node);
  const newest = new Map<string, cri.PodSandbox>();
  for (const s of sandboxes) {
    const uid = s.labels[POD_LABEL.podUid] ?? "";
    const cur = newest.get(uid);
    if (cur === undefined || (s.metadata?.attempt ?? 0) > (cur.metadata?.attempt ?? 0))
      newest.set(uid, s);
  }
  let removedSandboxes = 0;
  for (const s of sandboxes) {
    if (s.state === cri.PodSandboxState.SANDBOX_READY) continue;
    if (remaining.has(s.id)) continue;
    if (newest.get(s.labels[POD_LABEL.podUid] ?? "") === s) continue;
    await runtime.runtime.removePodSandbox({ podSandboxId: s.id }).catch(() => undefined);
    removedSandboxes++;
  }
  return { containers: removedContainers, sandboxes: removedSandboxes };
}
