// A Job's spec.podFailurePolicy applied to one failed pod (Kubernetes' matchPodFailurePolicy):
// the rules are tried in order and the first that matches decides — FailJob fails the whole
// Job, FailIndex fails the pod's index (with backoffLimitPerIndex), Ignore does not count the
// failure against backoffLimit, Count counts it as usual. A pod no rule matches is counted.
// https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-failure-policy
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/#JobSpec

import type {
  ContainerStatus,
  Pod,
  PodFailurePolicy,
  PodFailurePolicyOnExitCodesRequirement,
  PodFailurePolicyOnPodConditionsPattern,
} from "@tug/api";

export type PodFailurePolicyAction = "FailJob" | "FailIndex" | "Ignore" | "Count";

/** What a failed pod means for its Job under the policy. */
export interface PodFailureVerdict {
  /** The action of the rule that matched; undefined when none did (the pod is counted). */
  readonly action: PodFailurePolicyAction | undefined;
  /** False only for Ignore: the failure does not count against backoffLimit. */
  readonly countFailed: boolean;
  /** For FailJob: the message of the Job's FailureTarget and Failed conditions. */
  readonly failJobMessage?: string;
}

/** The condition reason of a Job failed by a FailJob rule. */
export const POD_FAILURE_POLICY_REASON = "PodFailurePolicy";

const COUNTED: PodFailureVerdict = { action: undefined, countFailed: true };

/**
 * The first container (app containers first, then init containers) that terminated with a
 * non-zero exit code satisfying `requirement`; exit code 0 never matches, as in Kubernetes.
 */
function matchingContainer(
  pod: Pod,
  requirement: PodFailurePolicyOnExitCodesRequirement,
): ContainerStatus | undefined {
  const status = pod.status;
  for (const list of [status?.containerStatuses ?? [], status?.initContainerStatuses ?? []]) {
    for (const container of list) {
      const terminated = container.state?.terminated;
      if (terminated === undefined || terminated.exitCode === 0) continue;
      if (requirement.containerName !== undefined && requirement.containerName !== container.name)
        continue;
      const listed = requirement.values.includes(terminated.exitCode);
      if (requirement.operator === "In" ? listed : requirement.operator === "NotIn" && !listed) {
        return container;
      }
    }
  }
  return undefined;
}

/** The pod condition type that one of `patterns` matches (type and status), if any. */
function matchingCondition(
  pod: Pod,
  patterns: readonly PodFailurePolicyOnPodConditionsPattern[],
): string | undefined {
  for (const pattern of patterns) {
    // The API server defaults status to True; an object written without defaults means the same.
    const wanted = pattern.status === "" ? "True" : pattern.status;
    const found = pod.status?.conditions.find(
      (c) => c.type === pattern.type && c.status === wanted,
    );
    if (found !== undefined) return found.type;
  }
  return undefined;
}

function isAction(action: string): action is PodFailurePolicyAction {
  return (
    action === "FailJob" || action === "FailIndex" || action === "Ignore" || action === "Count"
  );
}

/**
 * The verdict of `policy` on the failed `pod`. Messages are Kubernetes' own, e.g. "Container
 * main for pod default/x-abcde failed with exit code 42 matching FailJob rule at index 0".
 * A rule with an unknown action is skipped, as the API reference asks of clients.
 */
export function matchPodFailurePolicy(
  policy: PodFailurePolicy | undefined,
  pod: Pod,
): PodFailureVerdict {
  if (policy === undefined) return COUNTED;
  const podName = `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  for (const [index, rule] of policy.rules.entries()) {
    if (!isAction(rule.action)) continue;
    let failJobMessage: string | undefined;
    if (rule.onExitCodes !== undefined) {
      const container = matchingContainer(pod, rule.onExitCodes);
      if (container === undefined) continue;
      const code = container.state?.terminated?.exitCode ?? 0;
      failJobMessage = `Container ${container.name} for pod ${podName} failed with exit code ${code} matching FailJob rule at index ${index}`;
    } else if (rule.onPodConditions.length > 0) {
      const type = matchingCondition(pod, rule.onPodConditions);
      if (type === undefined) continue;
      failJobMessage = `Pod ${podName} has condition ${type} matching FailJob rule at index ${index}`;
    } else {
      continue;
    }
    switch (rule.action) {
      case "Ignore":
        return { action: "Ignore", countFailed: false };
      case "FailJob":
        return { action: "FailJob", countFailed: true, failJobMessage };
      default:
        return { action: rule.action, countFailed: true };
    }
  }
  return COUNTED;
}
