// spec.successPolicy of Indexed Jobs, as a pure function (Kubernetes' KEP-3998,
// pkg/controller/job/success_policy.go; beta and on by default in 1.31 and 1.32): the rules are
// tried in order and the first one met declares the Job succeeded before every index has. The
// controller then adds SuccessCriteriaMet with reason SuccessPolicy and the message "Matched
// rules at index <i>", terminates the remaining pods without counting them as failed, and adds
// Complete (same reason and message) once none is left.
// https://kubernetes.io/docs/concepts/workloads/controllers/job/#success-policy

import type { Job } from "@tug/api";
import { isIndexedJob, type JobVerdict, parseIndexes } from "./job-state.js";

/** The reason of SuccessCriteriaMet and Complete when a success policy rule was met. */
export const SUCCESS_POLICY_REASON = "SuccessPolicy";

/**
 * The verdict of the first rule of the Job's successPolicy that `succeeded` (its succeeded
 * indexes) meets; undefined without a policy, before any index succeeded, or when no rule is
 * met. A rule with succeededIndexes is met when all of them succeeded, or when succeededCount
 * of them did; a rule with only succeededCount when that many indexes succeeded. Indexes at or
 * above completions (left over after an elastic Job shrank) do not count; a rule whose
 * succeededIndexes name none below completions is skipped.
 */
export function matchSuccessPolicy(
  job: Job,
  succeeded: ReadonlySet<number>,
): JobVerdict | undefined {
  const rules = job.spec?.successPolicy?.rules;
  if (rules === undefined || !isIndexedJob(job)) return undefined;
  const completions = job.spec?.completions ?? 0;
  const done = [...succeeded].filter((index) => index < completions);
  if (done.length === 0) return undefined;
  for (const [i, rule] of rules.entries()) {
    const count = rule.succeededCount;
    let met: boolean;
    if (rule.succeededIndexes !== undefined) {
      const required = [...parseIndexes(rule.succeededIndexes)].filter((x) => x < completions);
      if (required.length === 0) continue;
      const covered = required.filter((index) => succeeded.has(index)).length;
      met = covered === required.length || (count !== undefined && covered >= count);
    } else {
      met = count !== undefined && done.length >= count;
    }
    if (met) return { reason: SUCCESS_POLICY_REASON, message: `Matched rules at index ${i}` };
  }
  return undefined;
}
