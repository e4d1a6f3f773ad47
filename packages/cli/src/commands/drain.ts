// tug drain: kubectl's drain. Cordons the node, then evicts its pods through the Eviction API
// (so PodDisruptionBudgets are honoured: a refused eviction, 429 TooManyRequests, is retried
// until --timeout) and waits until each pod is gone. Pods kubectl would not evict without a
// flag (no controller, DaemonSet-managed, emptyDir data) stop the drain before any eviction.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/
// https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/

import type { JsonObject } from "@tug/api";
import { describeError, hasReason } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { DeleteOptions } from "../client/cli-client.js";
import { type CommandContext, parseRequestTimeout } from "../command-context.js";
import { formatReasons, planDrain } from "../drain/pod-filters.js";
import { str } from "../printers/json-view.js";
import { nodeNames, setUnschedulable } from "./cordon.js";
import { toJson } from "./object-json.js";
import { resolveKind } from "./resource-args.js";

export interface DrainOptions {
  force?: boolean;
  ignoreDaemonsets?: boolean;
  deleteEmptydirData?: boolean;
  gracePeriod?: string;
  timeout?: string;
  selector?: string;
  /** Pause before retrying an eviction a disruption budget refused; kubectl waits 5 s. */
  retryIntervalMs?: number;
  /** How often to check whether an evicted pod is gone. */
  pollIntervalMs?: number;
}

/** kubectl retries a refused eviction after 5 s: long enough for a replacement to get ready. */
export const EVICTION_RETRY_INTERVAL_MS = 5_000;
/** How often drain checks that an evicted pod is really gone (graceful termination). */
export const POD_GONE_POLL_INTERVAL_MS = 1_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

function gracePeriod(value: string | undefined): DeleteOptions {
  if (value === undefined) return {};
  const seconds = Number(value);
  if (!Number.isInteger(seconds)) {
    throw new CliError(
      `invalid --grace-period "${value}": use whole seconds (-1 for the pod's own)`,
    );
  }
  return seconds < 0 ? {} : { gracePeriodSeconds: seconds };
}

interface EvictionRun {
  readonly ctx: CommandContext;
  readonly deleteOptions: DeleteOptions;
  /** Epoch ms after which the drain gives up; 0: never. */
  readonly deadline: number;
  readonly timeoutText: string;
  readonly retryMs: number;
  readonly pollMs: number;
}

function timedOut(run: EvictionRun): boolean {
  return run.deadline > 0 && Date.now() >= run.deadline;
}

/** Evicts one pod, retrying budget refusals, then waits until it is gone. */
async function evictPod(run: EvictionRun, pod: JsonObject): Promise<void> {
  const { ctx } = run;
  const client = await ctx.client();
  const namespace = str(pod, "metadata", "namespace");
  const name = str(pod, "metadata", "name");
  const uid = str(pod, "metadata", "uid");
  ctx.out(`evicting pod ${namespace}/${name}\n`);
  for (;;) {
    try {
      await client.evict(namespace, name, run.deleteOptions);
      break;
    } catch (err) {
      if (hasReason(err, "NotFound")) break;
      if (!hasReason(err, "TooManyRequests")) throw err;
      if (timedOut(run) || ctx.io.signal.aborted) {
        throw new CliError(
          `error when evicting pods/"${name}" -n "${namespace}": global timeout reached: ${run.timeoutText}`,
        );
      }
      const message = err instanceof Error ? err.message : String(err);
      ctx.io.stderr.write(
        `error when evicting pods/"${name}" -n "${namespace}" (will retry after ${run.retryMs / 1000}s): ${message}\n`,
      );
      // Never sleep past the deadline: the last retry comes just before giving up.
      const left = run.deadline > 0 ? Math.max(run.deadline - Date.now(), 0) : run.retryMs;
      await sleep(Math.min(run.retryMs, left), ctx.io.signal);
    }
  }
  const pods = resolveKind("pods");
  for (;;) {
    try {
      const live = toJson(await client.get(pods, namespace, name));
      if (str(live, "metadata", "uid") !== uid) break;
    } catch (err) {
      if (hasReason(err, "NotFound")) break;
      throw err;
    }
    if (timedOut(run) || ctx.io.signal.aborted) {
      throw new CliError(
        `error when waiting for pod "${name}" in namespace "${namespace}" to terminate: global timeout reached: ${run.timeoutText}`,
      );
    }
    await sleep(run.pollMs, ctx.io.signal);
  }
  ctx.out(`pod/${name} evicted\n`);
}

/** Drains one node; throws a CliError carrying kubectl's reason when it cannot. */
async function drainNode(ctx: CommandContext, node: string, options: DrainOptions): Promise<void> {
  await setUnschedulable(ctx, node, true);
  const client = await ctx.client();
  const listed = await client.list(resolveKind("pods"), "", {
    fieldSelector: `spec.nodeName=${node}`,
  });
  const plan = planDrain(
    listed.items.map((item) => toJson(item)),
    {
      force: options.force === true,
      ignoreDaemonsets: options.ignoreDaemonsets === true,
      deleteEmptydirData: options.deleteEmptydirData === true,
    },
  );
  if (plan.errors.size > 0) throw new CliError(formatReasons(plan.errors));
  if (plan.warnings.size > 0) ctx.io.stderr.write(`Warning: ${formatReasons(plan.warnings)}\n`);
  const timeoutMs = parseRequestTimeout(options.timeout);
  const run: EvictionRun = {
    ctx,
    deleteOptions: gracePeriod(options.gracePeriod),
    deadline: timeoutMs > 0 ? Date.now() + timeoutMs : 0,
    timeoutText: options.timeout ?? "0s",
    retryMs: options.retryIntervalMs ?? EVICTION_RETRY_INTERVAL_MS,
    pollMs: options.pollIntervalMs ?? POD_GONE_POLL_INTERVAL_MS,
  };
  // kubectl evicts a node's pods in parallel; each reports its own progress.
  const results = await Promise.allSettled(plan.evict.map((pod) => evictPod(run, pod)));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  if (failures.length > 0) {
    const texts = failures.map((f) =>
      f instanceof CliError ? f.message : describeError(f, ctx.serverForMessages()).text,
    );
    throw new CliError(texts.join("; "));
  }
  ctx.out(`node/${node} drained\n`);
}

export async function runDrain(
  ctx: CommandContext,
  args: readonly string[],
  options: DrainOptions,
): Promise<number> {
  const names = await nodeNames(ctx, args, options.selector, "drain");
  const pending: string[] = [];
  const reasons: string[] = [];
  for (const node of names) {
    try {
      await drainNode(ctx, node, options);
    } catch (err) {
      const reason =
        err instanceof CliError ? err.message : describeError(err, ctx.serverForMessages()).text;
      ctx.io.stderr.write(
        `error: unable to drain node "${node}" due to error: ${reason}, continuing command...\n`,
      );
      pending.push(node);
      reasons.push(reason);
    }
  }
  if (pending.length === 0) return 0;
  ctx.io.stderr.write(
    `There are pending nodes to be drained:\n${pending.map((n) => ` ${n}\n`).join("")}`,
  );
  for (const reason of reasons) ctx.io.stderr.write(`error: ${reason}\n`);
  return 1;
}
