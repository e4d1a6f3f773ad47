// tug label and tug annotate: kubectl's label/annotate. KEY=VALUE sets, KEY- removes; changing
// an existing value needs --overwrite ("'app' already has a value (web), and --overwrite is
// false"). Sent as a JSON merge patch of metadata.labels / metadata.annotations, with the
// object's resourceVersion when --resource-version is given.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_label/

import { isQualifiedName, isValidLabelValue, type JsonObject, type KindInfo } from "@tug/api";
import { describeError } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { stringMap } from "../printers/json-view.js";
import { objectName } from "../printers/object-printer.js";
import { nameOf, namespaceOf, toJson } from "./object-json.js";
import { parseResourceArgs } from "./resource-args.js";

export interface LabelOptions {
  overwrite?: boolean;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
  resourceVersion?: string;
  list?: boolean;
}

type Field = "labels" | "annotations";

interface Changes {
  readonly set: Map<string, string>;
  readonly remove: string[];
}

/** Splits the arguments into resource arguments and KEY=VALUE / KEY- changes. */
export function parseChanges(
  args: readonly string[],
  field: Field,
): { resources: string[]; changes: Changes } {
  const resources: string[] = [];
  const set = new Map<string, string>();
  const remove: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq > 0) {
      const key = arg.slice(0, eq);
      const value = arg.slice(eq + 1);
      checkKey(key, field);
      if (field === "labels" && isValidLabelValue(value).length > 0) {
        throw new CliError(
          `invalid label value: "${arg}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        );
      }
      if (set.has(key))
        throw new CliError(
          `${field === "labels" ? "label" : "annotation"} ${key} is given more than once`,
        );
      set.set(key, value);
    } else if (arg.endsWith("-") && arg.length > 1 && resources.length > 0) {
      // Object names never end in "-" (DNS-1123), so after the type this is a removal.
      const key = arg.slice(0, -1);
      checkKey(key, field);
      remove.push(key);
    } else {
      resources.push(arg);
    }
  }
  for (const key of remove) {
    if (set.has(key))
      throw new CliError(
        `can not both modify and remove ${field === "labels" ? "a label" : "an annotation"} in the same command: ${key}`,
      );
  }
  if (set.size === 0 && remove.length === 0) {
    throw new CliError(
      `at least one ${field === "labels" ? "label" : "annotation"} update is required; e.g. \`tug ${field === "labels" ? "label" : "annotate"} pods web ${field === "labels" ? "app=web" : "note=hello"}\` (KEY- removes)`,
    );
  }
  return { resources, changes: { set, remove } };
}

function checkKey(key: string, field: Field): void {
  const problems = isQualifiedName(key);
  if (problems.length > 0) {
    throw new CliError(
      `invalid ${field === "labels" ? "label" : "annotation"} key "${key}": ${problems.join("; ")}`,
    );
  }
}

/** The merge patch for `changes` on an object's current map; throws on a refused overwrite. */
export function metadataPatch(
  current: Record<string, string>,
  changes: Changes,
  field: Field,
  overwrite: boolean,
  resourceVersion: string | undefined,
): JsonObject | undefined {
  const members: JsonObject = {};
  for (const [key, value] of changes.set) {
    const existing = current[key];
    if (existing === value) continue;
    if (existing !== undefined && !overwrite) {
      throw new CliError(`'${key}' already has a value (${existing}), and --overwrite is false`);
    }
    members[key] = value;
  }
  for (const key of changes.remove) {
    if (key in current) members[key] = null;
  }
  if (Object.keys(members).length === 0) return undefined;
  const metadata: JsonObject = { [field]: members };
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  return { metadata };
}

export async function runLabelOrAnnotate(
  ctx: CommandContext,
  field: Field,
  args: readonly string[],
  options: LabelOptions,
): Promise<number> {
  const { resources, changes } = parseChanges(args, field);
  const selections = parseResourceArgs(resources, field === "labels" ? "label" : "annotate");
  const client = await ctx.client();
  const targets: { kind: KindInfo; json: JsonObject }[] = [];
  for (const { kind, names } of selections) {
    const namespace = await ctx.namespaceFor(kind, options.allNamespaces);
    if (names.length > 0) {
      for (const name of names)
        targets.push({ kind, json: toJson(await client.get(kind, namespace, name)) });
    } else if (options.selector !== undefined || options.all === true) {
      const list = await client.list(kind, namespace, { labelSelector: options.selector });
      for (const item of list.items) targets.push({ kind, json: toJson(item) });
    } else {
      throw new CliError(
        `one or more resources must be specified as <resource> <name> or <resource>/<name>, or use -l / --all`,
      );
    }
  }
  const past = field === "labels" ? "labeled" : "annotated";
  let failed = false;
  for (const { kind, json } of targets) {
    const name = nameOf(json);
    try {
      const patch = metadataPatch(
        stringMap(json, "metadata", field),
        changes,
        field,
        options.overwrite === true,
        options.resourceVersion,
      );
      if (patch === undefined) {
        ctx.out(`${objectName(kind, name)} not ${past}\n`);
        continue;
      }
      await client.patch(kind, namespaceOf(json), name, "application/merge-patch+json", patch);
      ctx.out(`${objectName(kind, name)} ${past}\n`);
    } catch (err) {
      failed = true;
      ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
    }
  }
  return failed ? 1 : 0;
}
