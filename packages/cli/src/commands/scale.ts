// tug scale: kubectl's scale for deployments, replicasets and statefulsets. Sets
// spec.replicas with an update that names the read resourceVersion, so --current-replicas is
// a real precondition: if someone else changed the object in between, the update conflicts
// and the check runs again on the fresh object.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_scale/

import { describeError, hasReason } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { num, obj } from "../printers/json-view.js";
import { objectName } from "../printers/object-printer.js";
import { fromJson, nameOf, namespaceOf, toJson } from "./object-json.js";
import { parseResourceArgs } from "./resource-args.js";

export interface ScaleOptions {
  replicas?: string;
  currentReplicas?: string;
  selector?: string;
  all?: boolean;
}

const SCALABLE = new Set(["Deployment", "ReplicaSet", "StatefulSet"]);

/** Attempts per object when updates conflict with other writers (kubectl retries too). */
const CONFLICT_RETRIES = 3;

function parseCount(
  value: string | undefined,
  flag: string,
  required: boolean,
): number | undefined {
  if (value === undefined) {
    if (required)
      throw new CliError(
        `${flag} is required and must be >= 0; e.g. \`tug scale deploy/web ${flag}=3\``,
      );
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`invalid ${flag} "${value}": it must be a whole number >= 0`);
  return n;
}

export async function runScale(
  ctx: CommandContext,
  args: readonly string[],
  options: ScaleOptions,
): Promise<number> {
  const replicas = parseCount(options.replicas, "--replicas", true) as number;
  const expected = parseCount(options.currentReplicas, "--current-replicas", false);
  const selections = parseResourceArgs(args, "scale");
  const client = await ctx.client();
  let failed = false;
  for (const { kind, names } of selections) {
    if (!SCALABLE.has(kind.kind)) {
      throw new CliError(
        `cannot scale ${kind.resource}: tug scales deployments, replicasets and statefulsets`,
      );
    }
    const namespace = await ctx.namespaceFor(kind);
    let targets = names;
    if (targets.length === 0) {
      if (options.selector === undefined && options.all !== true) {
        throw new CliError("name the objects to scale, or use -l SELECTOR or --all");
      }
      const list = await client.list(kind, namespace, { labelSelector: options.selector });
      targets = list.items.map((item) => nameOf(toJson(item)));
    }
    for (const name of targets) {
      try {
        for (let attempt = 1; ; attempt++) {
          const json = toJson(await client.get(kind, namespace, name));
          const current = num(json, "spec", "replicas") ?? 1;
          if (expected !== undefined && current !== expected) {
            throw new CliError(`Expected replicas to be ${expected}, was ${current}`);
          }
          const spec = obj(json, "spec") ?? {};
          json.spec = { ...spec, replicas };
          try {
            await client.update(kind, namespaceOf(json), fromJson(json));
            break;
          } catch (err) {
            if (!hasReason(err, "Conflict") || attempt >= CONFLICT_RETRIES) throw err;
          }
        }
        ctx.out(`${objectName(kind, name)} scaled\n`);
      } catch (err) {
        failed = true;
        ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
      }
    }
  }
  return failed ? 1 : 0;
}
