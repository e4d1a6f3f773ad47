// tug rollout: kubectl's rollout verbs. status follows a Deployment's (or DaemonSet's)
// rollout with kubectl's texts until it completes; history lists the revisions kept as old
// ReplicaSets; undo rolls back to one (the controller-manager's rolledBackDeployment, as
// kubectl's DeploymentRollbacker does it); pause/resume set spec.paused; restart stamps the
// pod template with kubectl.kubernetes.io/restartedAt so that a new rollout starts.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_rollout/

import type { Deployment, JsonObject, KindInfo, ReplicaSet } from "@tug/api";
import {
  equalIgnoreHash,
  replicaSetForRevision,
  revisionOf,
  rolledBackDeployment,
} from "@tug/controller-manager";
import { describeError } from "../api-status.js";
import { CliError } from "../cli-error.js";
import { type CommandContext, parseRequestTimeout } from "../command-context.js";
import { arr, num, obj, str } from "../printers/json-view.js";
import { objectName, toYaml } from "../printers/object-printer.js";
import { formatTable } from "../printers/table.js";
import { quotedName, toJson } from "./object-json.js";
import { parseResourceArgs, resolveKind } from "./resource-args.js";

/** The annotation kubectl records a change's cause in (shown by rollout history). */
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
/** The pod template annotation `rollout restart` sets to the time of the restart. */
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";

export interface RolloutStatusOptions {
  watch?: boolean;
  timeout?: string;
}

/** One object a rollout verb is about. */
interface Target {
  readonly kind: KindInfo;
  readonly namespace: string;
  readonly name: string;
}

async function targetsOf(
  ctx: CommandContext,
  args: readonly string[],
  verb: string,
  supported: readonly string[],
): Promise<Target[]> {
  const list: Target[] = [];
  for (const { kind, names } of parseResourceArgs(args, `rollout ${verb}`)) {
    if (!supported.includes(kind.kind)) {
      throw new CliError(
        `no ${verb} for ${kind.resource}: tug rollout ${verb} supports ${supported.map((k) => `${k.toLowerCase()}s`).join(", ")}`,
      );
    }
    if (names.length === 0) {
      throw new CliError(
        `name the ${kind.singular} (e.g. \`tug rollout ${verb} ${kind.singular}/web\`)`,
      );
    }
    const namespace = await ctx.namespaceFor(kind);
    for (const name of names) list.push({ kind, namespace, name });
  }
  return list;
}

/** Runs `each` for every target; errors are printed as kubectl does and make the exit 1. */
async function forEach(
  ctx: CommandContext,
  targets: readonly Target[],
  each: (target: Target) => Promise<void>,
): Promise<number> {
  let failed = false;
  for (const target of targets) {
    try {
      await each(target);
    } catch (err) {
      failed = true;
      ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
    }
  }
  return failed ? 1 : 0;
}

/**
 * kubectl's status viewer for one object: the line to print and whether the rollout is done.
 * Throws when a Deployment exceeded its progress deadline.
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go)
 */
export function rolloutStatus(kind: KindInfo, o: JsonObject): { message: string; done: boolean } {
  const name = str(o, "metadata", "name");
  const generation = num(o, "metadata", "generation") ?? 0;
  const observed = num(o, "status", "observedGeneration") ?? 0;
  if (kind.kind === "DaemonSet") {
    if (generation > observed) {
      return { message: "Waiting for daemon set spec update to be observed...", done: false };
    }
    const desired = num(o, "status", "desiredNumberScheduled") ?? 0;
    const updated = num(o, "status", "updatedNumberScheduled") ?? 0;
    const available = num(o, "status", "numberAvailable") ?? 0;
    if (updated < desired) {
      return {
        message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
        done: false,
      };
    }
    if (available < desired) {
      return {
        message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
        done: false,
      };
    }
    return { message: `daemon set "${name}" successfully rolled out`, done: true };
  }
  if (generation > observed) {
    return { message: "Waiting for deployment spec update to be observed...", done: false };
  }
  for (const c of arr(o, "status", "conditions")) {
    if (str(c, "type") === "Progressing" && str(c, "reason") === "ProgressDeadlineExceeded") {
      throw new CliError(`deployment "${name}" exceeded its progress deadline`);
    }
  }
  const replicas = num(o, "spec", "replicas") ?? 1;
  const total = num(o, "status", "replicas") ?? 0;
  const updated = num(o, "status", "updatedReplicas") ?? 0;
  const available = num(o, "status", "availableReplicas") ?? 0;
  const waiting = (text: string) => ({
    message: `Waiting for deployment "${name}" rollout to finish: ${text}`,
    done: false,
  });
  if (updated < replicas) {
    return waiting(`${updated} out of ${replicas} new replicas have been updated...`);
  }
  if (total > updated) {
    return waiting(`${total - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return waiting(`${available} of ${updated} updated replicas are available...`);
  }
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

/** Follows one object until its rollout is done: a get, then a watch from its version. */
async function followStatus(
  ctx: CommandContext,
  target: Target,
  options: RolloutStatusOptions,
): Promise<void> {
  const client = await ctx.client();
  let last = "";
  const show = (json: JsonObject): boolean => {
    const { message, done } = rolloutStatus(target.kind, json);
    if (message !== last) ctx.out(`${message}\n`);
    last = message;
    return done;
  };
  const first = toJson(await client.get(target.kind, target.namespace, target.name));
  if (show(first) || options.watch === false) return;
  const timeoutMs = parseRequestTimeout(options.timeout);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.io.signal.addEventListener("abort", onAbort);
  const timer = timeoutMs > 0 ? setTimeout(() => stop.abort(), timeoutMs) : undefined;
  try {
    const events = client.watch(target.kind, target.namespace, {
      fieldSelector: `metadata.name=${target.name}`,
      resourceVersion: str(first, "metadata", "resourceVersion"),
      signal: stop.signal,
    });
    for await (const event of events) {
      if (event.type === "DELETED") {
        throw new CliError(
          `${quotedName(target.kind, target.name)} was deleted during the rollout`,
        );
      }
      if (event.type === "BOOKMARK") continue;
      const json = toJson(event.object);
      if (str(json, "metadata", "name") !== target.name) continue;
      if (show(json)) return;
    }
    if (!ctx.io.signal.aborted) throw new CliError("timed out waiting for the condition");
  } finally {
    clearTimeout(timer);
    ctx.io.signal.removeEventListener("abort", onAbort);
    stop.abort();
  }
}

export async function runRolloutStatus(
  ctx: CommandContext,
  args: readonly string[],
  options: RolloutStatusOptions,
): Promise<number> {
  const targets = await targetsOf(ctx, args, "status", ["Deployment", "DaemonSet"]);
  return forEach(ctx, targets, (t) => followStatus(ctx, t, options));
}

/** The Deployment and the ReplicaSets it controls (its revisions). */
async function deploymentAndHistory(
  ctx: CommandContext,
  target: Target,
): Promise<{ deployment: Deployment; replicaSets: ReplicaSet[] }> {
  const client = await ctx.client();
  const deployment = (await client.get(target.kind, target.namespace, target.name)) as Deployment;
  const uid = deployment.metadata?.uid ?? "";
  const listed = await client.list(resolveKind("replicasets.apps"), target.namespace);
  const replicaSets = (listed.items as ReplicaSet[]).filter((rs) =>
    (rs.metadata?.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === uid),
  );
  return { deployment, replicaSets };
}

function parseRevision(value: string | undefined, flag: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new CliError(`invalid ${flag} "${value}": it must be a revision number >= 0`);
  }
  return n;
}

export async function runRolloutHistory(
  ctx: CommandContext,
  args: readonly string[],
  options: { revision?: string },
): Promise<number> {
  const revision = parseRevision(options.revision, "--revision");
  const targets = await targetsOf(ctx, args, "history", ["Deployment"]);
  return forEach(ctx, targets, async (target) => {
    const { replicaSets } = await deploymentAndHistory(ctx, target);
    const name = objectName(target.kind, target.name);
    if (revision > 0) {
      const rs = replicaSets.find((r) => revisionOf(r) === revision);
      if (rs === undefined) throw new CliError(`unable to find the specified revision`);
      const template = obj(toJson(rs), "spec", "template") ?? {};
      const labels = obj(template, "metadata", "labels");
      if (labels !== undefined) delete labels["pod-template-hash"];
      ctx.out(`${name} with revision #${revision}\nPod Template:\n${indent(toYaml(template))}`);
      return;
    }
    const rows = replicaSets
      .map((rs) => ({
        revision: revisionOf(rs),
        cause: rs.metadata?.annotations[CHANGE_CAUSE_ANNOTATION] ?? "",
      }))
      .filter((r) => r.revision > 0)
      .sort((a, b) => a.revision - b.revision)
      .map((r) => [`${r.revision}`, r.cause === "" ? "<none>" : r.cause]);
    ctx.out(`${name} \n${formatTable(["REVISION", "CHANGE-CAUSE"], rows)}\n`);
  });
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? line : `  ${line}`))
    .join("\n");
}

export async function runRolloutUndo(
  ctx: CommandContext,
  args: readonly string[],
  options: { toRevision?: string },
): Promise<number> {
  const toRevision = parseRevision(options.toRevision, "--to-revision");
  const targets = await targetsOf(ctx, args, "undo", ["Deployment"]);
  return forEach(ctx, targets, async (target) => {
    const { deployment, replicaSets } = await deploymentAndHistory(ctx, target);
    const name = objectName(target.kind, target.name);
    if (deployment.spec?.paused === true) {
      throw new CliError(
        `you cannot rollback a paused deployment; resume it first with 'tug rollout resume ${name}' and try again`,
      );
    }
    let rs: ReplicaSet;
    try {
      rs = replicaSetForRevision(target.name, replicaSets, toRevision);
    } catch (err) {
      throw new CliError((err as Error).message, { cause: err });
    }
    const revision = revisionOf(rs);
    if (equalIgnoreHash(rs.spec?.template, deployment.spec?.template)) {
      ctx.out(`${name} skipped rollback (current template already matches revision ${revision})\n`);
      return;
    }
    const client = await ctx.client();
    await client.update(target.kind, target.namespace, rolledBackDeployment(deployment, rs));
    ctx.out(`${name} rolled back\n`);
  });
}

/** pause (true) or resume (false): spec.paused, with kubectl's texts when already so. */
export async function runRolloutPause(
  ctx: CommandContext,
  args: readonly string[],
  paused: boolean,
): Promise<number> {
  const verb = paused ? "pause" : "resume";
  const targets = await targetsOf(ctx, args, verb, ["Deployment"]);
  const client = await ctx.client();
  return forEach(ctx, targets, async (target) => {
    const json = toJson(await client.get(target.kind, target.namespace, target.name));
    const plural = `${target.kind.resource}.${target.kind.group}`;
    if ((obj(json, "spec")?.paused === true) === paused) {
      throw new CliError(
        paused
          ? `${plural} "${target.name}" is already paused`
          : `${plural} "${target.name}" is not paused`,
      );
    }
    await client.patch(target.kind, target.namespace, target.name, "application/merge-patch+json", {
      spec: { paused: paused ? true : null },
    });
    ctx.out(`${objectName(target.kind, target.name)} ${paused ? "paused" : "resumed"}\n`);
  });
}

export async function runRolloutRestart(
  ctx: CommandContext,
  args: readonly string[],
): Promise<number> {
  const targets = await targetsOf(ctx, args, "restart", ["Deployment", "DaemonSet", "StatefulSet"]);
  const client = await ctx.client();
  return forEach(ctx, targets, async (target) => {
    const json = toJson(await client.get(target.kind, target.namespace, target.name));
    if (obj(json, "spec")?.paused === true) {
      throw new CliError(
        `${target.kind.resource}.${target.kind.group} "${target.name}" can't restart paused ${target.kind.singular} (run rollout resume first)`,
      );
    }
    // kubectl writes RFC 3339 with seconds and the local offset; UTC is the same instant.
    const now = ctx.io
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    await client.patch(target.kind, target.namespace, target.name, "application/merge-patch+json", {
      spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: now } } } },
    });
    ctx.out(`${objectName(target.kind, target.name)} restarted\n`);
  });
}
