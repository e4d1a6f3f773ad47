// The READY, STATUS and RESTARTS columns of `kubectl get pods`, computed from the pod's status
// as kubectl's printPod does: the phase, replaced by the pod's reason, then by what its init
// containers are doing ("Init:0/1", "Init:CrashLoopBackOff"), then by the reason of the last
// container that is waiting or terminated ("ContainerCreating", "CrashLoopBackOff",
// "Completed", "Error"), "Terminating" once deletion has begun.
// https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/

import type { JsonObject, JsonValue } from "@tug/api";
import { ageSince } from "./age.js";
import { arr, bool, num, obj, str } from "./json-view.js";

export interface PodColumns {
  /** "1/2": ready containers / containers in the spec. */
  readonly ready: string;
  readonly status: string;
  /** "3", or "3 (5m ago)" when a container last terminated at a known time. */
  readonly restarts: string;
}

/** The terminated state's reason, or "Signal:9" / "ExitCode:1" when the runtime gave none. */
function terminatedReason(terminated: JsonObject, prefix: string): string {
  const reason = str(terminated, "reason");
  if (reason !== "") return `${prefix}${reason}`;
  const signal = num(terminated, "signal") ?? 0;
  if (signal !== 0) return `${prefix}Signal:${signal}`;
  return `${prefix}ExitCode:${num(terminated, "exitCode") ?? 0}`;
}

function conditionTrue(pod: JsonValue, type: string): boolean {
  return arr(pod, "status", "conditions").some(
    (c) => str(c, "type") === type && str(c, "status") === "True",
  );
}

/** The READY, STATUS and RESTARTS cells of a pod at `now` (for the "(5m ago)" suffix). */
export function podColumns(pod: JsonObject, now: Date): PodColumns {
  let reason = str(pod, "status", "reason") || str(pod, "status", "phase") || "Pending";
  const totalContainers = arr(pod, "spec", "containers").length;
  let readyContainers = 0;
  let restarts = 0;
  let lastRestart = "";
  const noteRestart = (status: JsonValue | undefined) => {
    restarts += num(status, "restartCount") ?? 0;
    const finished = str(status, "lastState", "terminated", "finishedAt");
    if (finished !== "" && (lastRestart === "" || Date.parse(finished) > Date.parse(lastRestart))) {
      lastRestart = finished;
    }
  };

  const initStatuses = arr(pod, "status", "initContainerStatuses");
  const initCount = arr(pod, "spec", "initContainers").length;
  let initializing = false;
  for (const [i, status] of initStatuses.entries()) {
    noteRestart(status);
    const terminated = obj(status, "state", "terminated");
    const waitingReason = str(status, "state", "waiting", "reason");
    if (terminated !== undefined && (num(terminated, "exitCode") ?? 0) === 0) continue;
    if (terminated !== undefined) {
      reason = terminatedReason(terminated, "Init:");
    } else if (waitingReason !== "" && waitingReason !== "PodInitializing") {
      reason = `Init:${waitingReason}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, "Initialized")) {
    restarts = 0;
    lastRestart = "";
    let hasRunning = false;
    const statuses = arr(pod, "status", "containerStatuses");
    for (let i = statuses.length - 1; i >= 0; i--) {
      const status = statuses[i];
      noteRestart(status);
      const waitingReason = str(status, "state", "waiting", "reason");
      const terminated = obj(status, "state", "terminated");
      if (waitingReason !== "") {
        reason = waitingReason;
      } else if (terminated !== undefined) {
        reason = terminatedReason(terminated, "");
      } else if (obj(status, "state", "running") !== undefined && bool(status, "ready")) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose last container completed but another still runs is Running (or NotReady).
    if (reason === "Completed" && hasRunning) {
      reason = conditionTrue(pod, "Ready") ? "Running" : "NotReady";
    }
  }

  if (str(pod, "metadata", "deletionTimestamp") !== "") {
    reason = str(pod, "status", "reason") === "NodeLost" ? "Unknown" : "Terminating";
  }

  const restartsCell =
    lastRestart === "" ? `${restarts}` : `${restarts} (${ageSince(lastRestart, now)} ago)`;
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsCell };
}
