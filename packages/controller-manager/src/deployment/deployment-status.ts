// A Deployment's status and conditions (Kubernetes' pkg/controller/deployment/progress.go,
// sync.go calculateStatus and util's condition helpers).
// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status

import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type Deployment,
  type DeploymentCondition,
  DeploymentConditionSchema,
  type DeploymentStatus,
  DeploymentStatusSchema,
  type ReplicaSet,
} from "@tug/api";
import {
  actualReplicaCount,
  availableReplicaCount,
  deploymentComplete,
  maxUnavailable,
  readyReplicaCount,
  replicaCount,
  specReplicas,
} from "./deployment-util.js";

export const AVAILABLE = "Available";
export const PROGRESSING = "Progressing";
export const REPLICA_FAILURE = "ReplicaFailure";

/** Condition reasons, Kubernetes' texts. */
export const REASONS = {
  newReplicaSetCreated: "NewReplicaSetCreated",
  foundNewReplicaSet: "FoundNewReplicaSet",
  replicaSetUpdated: "ReplicaSetUpdated",
  newReplicaSetAvailable: "NewReplicaSetAvailable",
  failedReplicaSetCreate: "ReplicaSetCreateError",
  progressDeadlineExceeded: "ProgressDeadlineExceeded",
  minimumReplicasAvailable: "MinimumReplicasAvailable",
  minimumReplicasUnavailable: "MinimumReplicasUnavailable",
  paused: "DeploymentPaused",
  resumed: "DeploymentResumed",
} as const;

/** progressDeadlineSeconds that means "no deadline" (math.MaxInt32). */
export const NO_PROGRESS_DEADLINE = 2_147_483_647;

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== NO_PROGRESS_DEADLINE;
}

export function getCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return status?.conditions.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: "True" | "False" | "Unknown",
  reason: string,
  message: string,
  now: Date,
): DeploymentCondition {
  return create(DeploymentConditionSchema, {
    type,
    status,
    reason,
    message,
    lastUpdateTime: timestampFromDate(now),
    lastTransitionTime: timestampFromDate(now),
  });
}

/**
 * Sets `condition` in `status` (SetDeploymentCondition): no change when one of its type has the
 * same status and reason; the transition time is kept when only the reason or message changes.
 */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current?.status === condition.status && current.reason === condition.reason) return;
  const next = clone(DeploymentConditionSchema, condition);
  if (current !== undefined && current.status === condition.status) {
    next.lastTransitionTime = current.lastTransitionTime;
  }
  status.conditions = [...status.conditions.filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/**
 * The status from the ReplicaSets (calculateStatus): counts, and the Available condition true
 * while at least spec.replicas - maxUnavailable pods are available.
 */
export function calculateStatus(
  d: Deployment,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  now: Date,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status = create(DeploymentStatusSchema, {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: (d.status?.conditions ?? []).map((c) => clone(DeploymentConditionSchema, c)),
    ...(d.status?.collisionCount === undefined ? {} : { collisionCount: d.status.collisionCount }),
  });
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition(
        AVAILABLE,
        "True",
        REASONS.minimumReplicasAvailable,
        "Deployment has minimum availability.",
        now,
      ),
    );
  } else {
    setCondition(
      status,
      newCondition(
        AVAILABLE,
        "False",
        REASONS.minimumReplicasUnavailable,
        "Deployment does not have minimum availability.",
        now,
      ),
    );
  }
  return status;
}

/** More pods updated, fewer old ones, or more ready or available than before (DeploymentProgressing). */
export function isProgressing(d: Deployment, next: DeploymentStatus): boolean {
  const old = d.status ?? create(DeploymentStatusSchema, {});
  return (
    next.updatedReplicas > old.updatedReplicas ||
    next.replicas - next.updatedReplicas < old.replicas - old.updatedReplicas ||
    next.readyReplicas > old.readyReplicas ||
    next.availableReplicas > old.availableReplicas
  );
}

/** The Progressing condition has not been updated for progressDeadlineSeconds (DeploymentTimedOut). */
export function isTimedOut(d: Deployment, status: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(status, PROGRESSING);
  if (c === undefined || c.reason === REASONS.newReplicaSetAvailable) return false;
  if (c.reason === REASONS.progressDeadlineExceeded) return true;
  if (c.lastUpdateTime === undefined) return false;
  const deadline = timestampMs(c.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000;
  return deadline < now.getTime();
}

/**
 * The status after a rollout step (syncRolloutStatus): counts and Available as calculateStatus,
 * and Progressing True while pods move, True with NewReplicaSetAvailable once complete, False
 * with ProgressDeadlineExceeded after progressDeadlineSeconds without progress; ReplicaFailure
 * mirrored from the ReplicaSets.
 */
export function rolloutStatus(
  d: Deployment,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  now: Date,
): DeploymentStatus {
  const next = calculateStatus(d, allRSs, newRS, now);
  if (!hasProgressDeadline(d)) removeCondition(next, PROGRESSING);
  const current = getCondition(next, PROGRESSING);
  const complete =
    next.replicas === next.updatedReplicas && current?.reason === REASONS.newReplicaSetAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const subject =
      newRS === undefined
        ? `Deployment "${d.metadata?.name ?? ""}"`
        : `ReplicaSet "${newRS.metadata?.name ?? ""}"`;
    if (deploymentComplete(d, next)) {
      setCondition(
        next,
        newCondition(
          PROGRESSING,
          "True",
          REASONS.newReplicaSetAvailable,
          `${subject} has successfully progressed.`,
          now,
        ),
      );
    } else if (isProgressing(d, next)) {
      const condition = newCondition(
        PROGRESSING,
        "True",
        REASONS.replicaSetUpdated,
        `${subject} is progressing.`,
        now,
      );
      // Progress refreshes lastUpdateTime (the deadline restarts) but not the transition time.
      if (current?.status === "True") condition.lastTransitionTime = current.lastTransitionTime;
      removeCondition(next, PROGRESSING);
      next.conditions.push(condition);
    } else if (isTimedOut(d, next, now)) {
      setCondition(
        next,
        newCondition(
          PROGRESSING,
          "False",
          REASONS.progressDeadlineExceeded,
          `${subject} has timed out progressing.`,
          now,
        ),
      );
    }
  }
  const failure = allRSs
    .flatMap((rs) => rs?.status?.conditions ?? [])
    .find((c) => c.type === REPLICA_FAILURE && c.status === "True");
  if (failure !== undefined) {
    setCondition(
      next,
      create(DeploymentConditionSchema, {
        type: REPLICA_FAILURE,
        status: failure.status,
        reason: failure.reason,
        message: failure.message,
        lastUpdateTime: failure.lastTransitionTime,
        lastTransitionTime: failure.lastTransitionTime,
      }),
    );
  } else removeCondition(next, REPLICA_FAILURE);
  return next;
}

/** True when writing `next` over `d`'s status would change nothing. */
export function statusUnchanged(d: Deployment, next: DeploymentStatus): boolean {
  return equals(DeploymentStatusSchema, d.status ?? create(DeploymentStatusSchema, {}), next);
}

/**
 * Milliseconds until the Progressing condition's deadline passes, for a re-check
 * (requeueStuckDeployment); undefined when nothing can time out.
 */
export function msUntilDeadline(
  d: Deployment,
  status: DeploymentStatus,
  now: Date,
): number | undefined {
  const c = getCondition(status, PROGRESSING);
  if (
    !hasProgressDeadline(d) ||
    c === undefined ||
    c.lastUpdateTime === undefined ||
    deploymentComplete(d, status) ||
    c.reason === REASONS.progressDeadlineExceeded
  ) {
    return undefined;
  }
  const deadline = timestampMs(c.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000;
  return Math.max(0, deadline - now.getTime());
}
