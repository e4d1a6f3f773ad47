// tug cordon / uncordon: kubectl's verbs that mark a node (un)schedulable by setting
// spec.unschedulable; the scheduler's NodeUnschedulable filter then keeps new pods off it.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_cordon/

import { type KindInfo, resolveKindName } from "@tug/api";
import { describeError } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { bool } from "../printers/json-view.js";
import { objectName } from "../printers/object-printer.js";
import { nameOf, toJson } from "./object-json.js";

export interface CordonOptions {
  selector?: string;
}

/** The Node kind (cluster-scoped). */
export function nodeKind(): KindInfo {
  return resolveKindName("nodes");
}

/** The node names a command is about: NAME... or -l SELECTOR (kubectl accepts node/NAME too). */
export async function nodeNames(
  ctx: CommandContext,
  args: readonly string[],
  selector: string | undefined,
  verb: string,
): Promise<string[]> {
  const names = args.map((a) =>
    a.startsWith("node/") || a.startsWith("nodes/") ? a.slice(a.indexOf("/") + 1) : a,
  );
  if (names.length > 0 && selector !== undefined) {
    throw new CliError(
      `cannot specify both a node name and a selector (e.g. \`tug ${verb} n1\` or \`tug ${verb} -l zone=a\`)`,
    );
  }
  if (names.length > 0) return names;
  if (selector === undefined) {
    throw new CliError(`name the node to ${verb}, or use -l SELECTOR (e.g. \`tug ${verb} n1\`)`);
  }
  const client = await ctx.client();
  const list = await client.list(nodeKind(), "", { labelSelector: selector });
  return list.items.map((item) => nameOf(toJson(item)));
}

/**
 * Sets spec.unschedulable on one node; prints kubectl's `node/n1 cordoned` (or `already
 * cordoned` when nothing changes).
 */
export async function setUnschedulable(
  ctx: CommandContext,
  name: string,
  unschedulable: boolean,
): Promise<void> {
  const client = await ctx.client();
  const kind = nodeKind();
  const verb = unschedulable ? "cordoned" : "uncordoned";
  const node = toJson(await client.get(kind, "", name));
  if (bool(node, "spec", "unschedulable") === unschedulable) {
    ctx.out(`${objectName(kind, name)} already ${verb}\n`);
    return;
  }
  // null removes the field, as kubectl's uncordon patch does; false is its default.
  await client.patch(kind, "", name, "application/merge-patch+json", {
    spec: { unschedulable: unschedulable ? true : null },
  });
  ctx.out(`${objectName(kind, name)} ${verb}\n`);
}

export async function runCordon(
  ctx: CommandContext,
  args: readonly string[],
  unschedulable: boolean,
  options: CordonOptions,
): Promise<number> {
  const names = await nodeNames(ctx, args, options.selector, unschedulable ? "cordon" : "uncordon");
  let failed = false;
  for (const name of names) {
    try {
      await setUnschedulable(ctx, name, unschedulable);
    } catch (err) {
      failed = true;
      ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
    }
  }
  return failed ? 1 : 0;
}
