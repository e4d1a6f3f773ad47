// tug apply -f, tug create -f and tug replace -f: send the objects of manifest files to the
// server, one at a time, reporting each as kubectl does ("pod/web created", "configured",
// "unchanged", "replaced"). An object that fails is reported and the rest still go; the exit
// code is 1 if any failed.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/

import type { JsonObject } from "@tug/api";
import { describeError, hasReason } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { str } from "../printers/json-view.js";
import { objectName } from "../printers/object-printer.js";
import { LAST_APPLIED_ANNOTATION, lastApplied, planApply, withLastApplied } from "./apply-plan.js";
import { type InputObject, readInputObjects } from "./manifest-input.js";
import { fromJson, metadataOf, nameOf, toJson } from "./object-json.js";

export interface FileOptions {
  filename?: string[];
  recursive?: boolean;
  output?: string;
  /** create/replace: record the manifest in the last-applied annotation, so apply can follow. */
  saveConfig?: boolean;
}

type Verb = "apply" | "create" | "replace";

/**
 * The namespace an object goes to: its own, else -n or the context's. An object naming a
 * namespace other than an explicit -n is refused, as kubectl refuses it.
 */
async function targetNamespace(
  ctx: CommandContext,
  input: InputObject,
  json: JsonObject,
): Promise<string> {
  if (!input.kind.namespaced) return "";
  const connection = await ctx.connection();
  const own = str(json, "metadata", "namespace");
  if (own !== "" && connection.explicitNamespace && own !== connection.namespace) {
    throw new CliError(
      `the namespace from the provided object "${own}" does not match the namespace "${connection.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
    );
  }
  return own || connection.namespace;
}

async function applyOne(
  ctx: CommandContext,
  input: InputObject,
  verb: Verb,
  saveConfig: boolean,
): Promise<string> {
  const client = await ctx.client();
  const json = toJson(input.object);
  const namespace = await targetNamespace(ctx, input, json);
  if (namespace !== "") metadataOf(json).namespace = namespace;
  const name = nameOf(json);
  if (name === "" && verb !== "create") {
    throw new CliError(
      `${input.source}: a ${input.kind.kind} without metadata.name cannot be used with ${verb}; give it a name (generateName works only with create)`,
    );
  }
  const sent = saveConfig && verb !== "apply" ? withLastApplied(json) : json;
  if (verb === "create") {
    const created = toJson(await client.create(input.kind, namespace, fromJson(sent)));
    return `${objectName(input.kind, nameOf(created))} created`;
  }
  if (verb === "replace") {
    await client.update(input.kind, namespace, fromJson(sent));
    return `${objectName(input.kind, name)} replaced`;
  }
  let live: JsonObject | undefined;
  try {
    live = toJson(await client.get(input.kind, namespace, name));
  } catch (err) {
    if (!hasReason(err, "NotFound")) throw err;
  }
  if (live !== undefined && lastApplied(live) === null) {
    ctx.io.stderr.write(
      `Warning: resource ${input.kind.resource}/${name} is missing the ${LAST_APPLIED_ANNOTATION} annotation which is required by tug apply. tug apply should only be used on resources created declaratively by either tug create --save-config or tug apply. The missing annotation will be patched automatically.\n`,
    );
  }
  const plan = planApply(json, live);
  switch (plan.action) {
    case "create":
      await client.create(input.kind, namespace, fromJson(plan.object));
      return `${objectName(input.kind, name)} created`;
    case "unchanged":
      return `${objectName(input.kind, name)} unchanged`;
    case "patch": {
      const patched = toJson(
        await client.patch(input.kind, namespace, name, "application/merge-patch+json", plan.patch),
      );
      // The server writes nothing when the patch changes nothing after defaulting (a list
      // the manifest holds without the server's defaults): that object is unchanged too.
      const before = str(live, "metadata", "resourceVersion");
      const unchanged = before !== "" && before === str(patched, "metadata", "resourceVersion");
      return `${objectName(input.kind, name)} ${unchanged ? "unchanged" : "configured"}`;
    }
  }
}

/** Runs apply, create or replace over the objects -f names. */
export async function runFromFiles(
  ctx: CommandContext,
  verb: Verb,
  options: FileOptions,
): Promise<number> {
  if (options.output !== undefined && options.output !== "name") {
    throw new CliError(`${verb} supports -o name only; got "${options.output}"`);
  }
  const inputs = await readInputObjects(options.filename ?? [], options.recursive === true, () =>
    ctx.io.readStdin(),
  );
  let failed = false;
  for (const input of inputs) {
    try {
      const line = await applyOne(ctx, input, verb, options.saveConfig === true);
      ctx.out(`${options.output === "name" ? line.slice(0, line.lastIndexOf(" ")) : line}\n`);
    } catch (err) {
      failed = true;
      ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
    }
  }
  return failed ? 1 : 0;
}
