// tug delete: kubectl's delete. Objects by TYPE NAME..., TYPE/NAME, -f manifests, -l selector
// or --all; prints `pod "web" deleted` for each and, like kubectl, waits until each object is
// really gone (graceful deletion, finalizers) unless --wait=false.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_delete/

import type { KindInfo } from "@tug/api";
import { describeError, hasReason } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { DeleteOptions } from "../client/cli-client.js";
import { type CommandContext, parseRequestTimeout } from "../command-context.js";
import { str } from "../printers/json-view.js";
import { noResourcesMessage } from "./get.js";
import { readInputObjects } from "./manifest-input.js";
import { nameOf, namespaceOf, quotedName, toJson } from "./object-json.js";
import { parseResourceArgs } from "./resource-args.js";

export interface DeleteCommandOptions {
  filename?: string[];
  recursive?: boolean;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  gracePeriod?: string;
  now?: boolean;
  wait?: boolean;
  ignoreNotFound?: boolean;
  timeout?: string;
}

/** How often --wait checks whether a deleted object is gone: cheap, and quick to notice. */
const WAIT_POLL_INTERVAL_MS = 250;

interface Target {
  readonly kind: KindInfo;
  readonly namespace: string;
  readonly name: string;
}

function deleteOptions(options: DeleteCommandOptions): DeleteOptions {
  if (options.now === true) {
    if (options.gracePeriod !== undefined && options.gracePeriod !== "-1") {
      throw new CliError("--now and --grace-period cannot be specified together");
    }
    return { gracePeriodSeconds: 1 };
  }
  if (options.gracePeriod === undefined) return {};
  const seconds = Number(options.gracePeriod);
  if (!Number.isInteger(seconds)) {
    throw new CliError(
      `invalid --grace-period "${options.gracePeriod}": use whole seconds (-1 for the default)`,
    );
  }
  return seconds < 0 ? {} : { gracePeriodSeconds: seconds };
}

async function targets(
  ctx: CommandContext,
  args: readonly string[],
  options: DeleteCommandOptions,
): Promise<{ list: Target[]; emptyNamespace: string | undefined }> {
  if ((options.filename ?? []).length > 0) {
    if (args.length > 0) {
      throw new CliError(
        "when -f is given, names and types must not be: use either `-f FILE` or `TYPE NAME`",
      );
    }
    const inputs = await readInputObjects(options.filename ?? [], options.recursive === true, () =>
      ctx.io.readStdin(),
    );
    const list: Target[] = [];
    for (const input of inputs) {
      const json = toJson(input.object);
      const namespace = input.kind.namespaced
        ? namespaceOf(json) || (await ctx.connection()).namespace
        : "";
      list.push({ kind: input.kind, namespace, name: nameOf(json) });
    }
    return { list, emptyNamespace: undefined };
  }
  const selections = parseResourceArgs(args, "delete");
  const bySelector = options.selector !== undefined || options.fieldSelector !== undefined;
  const hasNames = selections.some((s) => s.names.length > 0);
  if (hasNames && (bySelector || options.all === true)) {
    throw new CliError("name cannot be provided when a selector or --all is specified");
  }
  if (!hasNames && !bySelector && options.all !== true) {
    throw new CliError(
      `resource(s) were provided, but no name was specified; name them, or use -l SELECTOR or --all (e.g. \`tug delete ${args[0] ?? "pods"} web\`)`,
    );
  }
  const client = await ctx.client();
  const list: Target[] = [];
  let emptyNamespace: string | undefined;
  for (const { kind, names } of selections) {
    const namespace = await ctx.namespaceFor(kind, options.allNamespaces);
    if (names.length > 0) {
      for (const name of names) list.push({ kind, namespace, name });
      continue;
    }
    const found = await client.list(kind, namespace, {
      labelSelector: options.selector,
      fieldSelector: options.fieldSelector,
    });
    for (const item of found.items) {
      const json = toJson(item);
      list.push({ kind, namespace: namespaceOf(json), name: nameOf(json) });
    }
    emptyNamespace = namespace;
  }
  return { list, emptyNamespace };
}

/** Waits until the object is gone, or has been replaced by one with another uid. */
async function waitUntilGone(
  ctx: CommandContext,
  target: Target,
  uid: string,
  deadline: number,
): Promise<void> {
  const client = await ctx.client();
  for (;;) {
    try {
      const live = toJson(await client.get(target.kind, target.namespace, target.name));
      if (str(live, "metadata", "uid") !== uid) return;
    } catch (err) {
      if (hasReason(err, "NotFound")) return;
      throw err;
    }
    if (ctx.io.signal.aborted) return;
    if (deadline > 0 && Date.now() >= deadline) {
      throw new CliError(
        `timed out waiting for ${quotedName(target.kind, target.name)} to be deleted (finalizers or a grace period still hold it); check it with \`tug get ${target.kind.resource} ${target.name} -o yaml\`, or pass --wait=false`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_INTERVAL_MS));
  }
}

export async function runDelete(
  ctx: CommandContext,
  args: readonly string[],
  options: DeleteCommandOptions,
): Promise<number> {
  const opts = deleteOptions(options);
  const { list, emptyNamespace } = await targets(ctx, args, options);
  if (list.length === 0) {
    ctx.io.stderr.write(`${noResourcesMessage(emptyNamespace ?? "")}\n`);
    return 0;
  }
  const timeoutMs = parseRequestTimeout(options.timeout);
  const client = await ctx.client();
  let failed = false;
  for (const target of list) {
    try {
      const deleted = toJson(await client.delete(target.kind, target.namespace, target.name, opts));
      ctx.out(`${quotedName(target.kind, target.name)} deleted\n`);
      const stillThere = str(deleted, "metadata", "deletionTimestamp") !== "";
      if (options.wait !== false && stillThere) {
        const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
        await waitUntilGone(ctx, target, str(deleted, "metadata", "uid"), deadline);
      }
    } catch (err) {
      if (options.ignoreNotFound === true && hasReason(err, "NotFound")) continue;
      failed = true;
      ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
    }
  }
  return failed ? 1 : 0;
}
