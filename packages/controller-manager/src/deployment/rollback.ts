// `tug rollout undo`: roll a Deployment back to an earlier revision the way kubectl does since
// Kubernetes 1.x moved rollback to the client (kubectl's DeploymentRollbacker): copy the old
// ReplicaSet's pod template (without its pod-template-hash label) and its annotations into the
// Deployment; the controller then finds that ReplicaSet again as the new one and rolls to it.
// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-back-a-deployment

import { clone } from "@bufbuild/protobuf";
import { type Deployment, DeploymentSchema, type ReplicaSet, ReplicaSetSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";
import { getControllerOf } from "../framework/controller-ref.js";
import { ANNOTATIONS_NOT_COPIED, revisionOf } from "./deployment-util.js";
import { equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from "./pod-template-hash.js";

export interface RollbackResult {
  /** The revision rolled back to. */
  readonly revision: number;
  /** False when the Deployment already had that template (kubectl's "skipped rollback"). */
  readonly rolledBack: boolean;
  /** kubectl's text: "deployment.apps/web rolled back", or why it was skipped. */
  readonly message: string;
}

/**
 * The ReplicaSet of `toRevision` among `rss`, or with 0 the one of the revision before the
 * latest (kubectl's rsForRevision). Throws kubectl's texts when there is none.
 */
export function replicaSetForRevision(
  deploymentName: string,
  rss: readonly ReplicaSet[],
  toRevision: number,
): ReplicaSet {
  if (toRevision > 0) {
    const found = rss.find((rs) => revisionOf(rs) === toRevision);
    if (found === undefined)
      throw new Error(`unable to find specified revision ${toRevision} in history`);
    return found;
  }
  let latest = -1;
  let previous = -1;
  let previousRS: ReplicaSet | undefined;
  let latestRS: ReplicaSet | undefined;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v > latest) {
      previous = latest;
      previousRS = latestRS;
      latest = v;
      latestRS = rs;
    } else if (v > previous) {
      previous = v;
      previousRS = rs;
    }
  }
  if (previousRS === undefined)
    throw new Error(`no rollout history found for deployment "${deploymentName}"`);
  return previousRS;
}

/**
 * The Deployment `d` rolled back to `rs`: its template without the pod-template-hash label, and
 * the Deployment's own annotations (ANNOTATIONS_NOT_COPIED) kept while the others are the
 * ReplicaSet's. The result keeps d's resourceVersion, so writing it fails on a concurrent change.
 */
export function rolledBackDeployment(d: Deployment, rs: ReplicaSet): Deployment {
  const next = clone(DeploymentSchema, d);
  const template = clone(ReplicaSetSchema, rs).spec?.template;
  if (template?.metadata !== undefined) {
    const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...labels } = template.metadata.labels;
    template.metadata.labels = labels;
  }
  if (next.spec !== undefined) next.spec.template = template;
  if (next.metadata !== undefined) {
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(next.metadata.annotations)) {
      if (ANNOTATIONS_NOT_COPIED.has(k)) annotations[k] = v;
    }
    for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) {
      if (!ANNOTATIONS_NOT_COPIED.has(k)) annotations[k] = v;
    }
    next.metadata.annotations = annotations;
  }
  return next;
}

/**
 * Rolls the Deployment `namespace/name` back to `toRevision` (0: the previous revision) through
 * the API, as `kubectl rollout undo` does. Refuses a paused Deployment with kubectl's text.
 */
export async function rollbackDeployment(
  api: Pick<ApiClient, "get" | "list" | "update">,
  namespace: string,
  name: string,
  toRevision = 0,
): Promise<RollbackResult> {
  const d = await api.get(DeploymentSchema, name, { namespace });
  if (d.spec?.paused === true) {
    throw new Error(
      `you cannot rollback a paused deployment; resume it first with 'tug rollout resume deployment/${name}' and try again`,
    );
  }
  const uid = d.metadata?.uid ?? "";
  const rss = (await api.list(ReplicaSetSchema, { namespace })).items.filter(
    (rs) => getControllerOf(rs.metadata)?.uid === uid,
  );
  const rs = replicaSetForRevision(name, rss, toRevision);
  const revision = revisionOf(rs);
  if (equalIgnoreHash(rs.spec?.template, d.spec?.template)) {
    return {
      revision,
      rolledBack: false,
      message: `skipped rollback (current template already matches revision ${revision})`,
    };
  }
  await api.update(DeploymentSchema, rolledBackDeployment(d, rs));
  return { revision, rolledBack: true, message: `deployment.apps/${name} rolled back` };
}
