// tug edit: kubectl's edit. Opens the objects as YAML in $KUBE_EDITOR, $EDITOR or vi; on save,
// sends each changed object back as an update naming the resourceVersion it was read at (so a
// concurrent change is a conflict, not a silent overwrite). If the file does not parse or the
// server refuses an object, the file is reopened with the errors as comments at the top, as
// kubectl does; saving it unchanged, or empty, gives up.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_edit/

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonObject, jsonEqual, type KindInfo, parseManifests } from "@tug/api";
import { describeError } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { str } from "../printers/json-view.js";
import { objectName, toYaml } from "../printers/object-printer.js";
import { fromJson, nameOf, namespaceOf, toJson } from "./object-json.js";
import { parseResourceArgs } from "./resource-args.js";

export interface EditOptions {
  selector?: string;
}

/** kubectl's instructions at the top of the file. */
export const EDIT_HEADER = [
  "# Please edit the object below. Lines beginning with a '#' will be ignored,",
  "# and an empty file will abort the edit. If an error occurs while saving this file will be",
  "# reopened with the relevant failures.",
  "#",
].join("\n");

/** The editor command line: $KUBE_EDITOR, else $EDITOR, else vi. */
export function editorCommand(env: Readonly<Record<string, string | undefined>>): string {
  return env.KUBE_EDITOR || env.EDITOR || "vi";
}

/** The file's text without comment lines (what kubectl compares and parses). */
function stripComments(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .trim();
}

interface Edited {
  readonly kind: KindInfo;
  readonly original: JsonObject;
}

function documentFor(objects: readonly JsonObject[]): string {
  if (objects.length === 1) return toYaml(objects[0]);
  return toYaml({
    apiVersion: "v1",
    kind: "List",
    items: objects,
    metadata: { resourceVersion: "" },
  });
}

export async function runEdit(
  ctx: CommandContext,
  args: readonly string[],
  options: EditOptions,
): Promise<number> {
  const selections = parseResourceArgs(args, "edit");
  const client = await ctx.client();
  const originals: Edited[] = [];
  for (const { kind, names } of selections) {
    const namespace = await ctx.namespaceFor(kind);
    if (names.length > 0) {
      for (const name of names)
        originals.push({ kind, original: toJson(await client.get(kind, namespace, name)) });
    } else {
      const list = await client.list(kind, namespace, { labelSelector: options.selector });
      for (const item of list.items) originals.push({ kind, original: toJson(item) });
    }
  }
  if (originals.length === 0) throw new CliError("there is nothing to edit: no objects matched");

  const dir = await mkdtemp(join(tmpdir(), "tug-edit-"));
  const file = join(
    dir,
    `${originals.length === 1 ? nameOf(originals[0]?.original ?? {}) || "edit" : "edit"}.yaml`,
  );
  try {
    let pending = originals;
    let content = documentFor(pending.map((p) => p.original));
    let errors: string[] = [];
    let lastAttempt: string | undefined;
    for (;;) {
      const comments =
        errors.length === 0
          ? ""
          : `${errors.map((e) => `# ${e.replaceAll("\n", "\n# ")}`).join("\n#\n")}\n#\n`;
      await writeFile(file, `${EDIT_HEADER}\n${comments}${content}`);
      await ctx.io.runEditor(editorCommand(ctx.io.env), file);
      const edited = stripComments(await readFile(file, "utf8"));
      if (edited === "") {
        ctx.out("Edit cancelled, no changes made.\n");
        return 0;
      }
      if (edited === stripComments(content) && errors.length === 0) {
        ctx.out("Edit cancelled, no changes made.\n");
        return 0;
      }
      if (lastAttempt !== undefined && edited === lastAttempt) {
        throw new CliError("Edit cancelled, no valid changes were saved.");
      }
      lastAttempt = edited;
      errors = [];
      let objects: { kind: KindInfo; json: JsonObject }[];
      try {
        objects = parseManifests(edited).map((m) => ({ kind: m.kind, json: toJson(m.object) }));
      } catch (err) {
        errors.push(`The edited file failed validation: ${(err as Error).message}`);
        content = edited;
        continue;
      }
      const failed: Edited[] = [];
      const failedEdits: JsonObject[] = [];
      for (const { kind, json } of objects) {
        const before = pending.find(
          (p) =>
            p.kind === kind &&
            nameOf(p.original) === nameOf(json) &&
            namespaceOf(p.original) === namespaceOf(json),
        );
        if (before === undefined) {
          errors.push(
            `${objectName(kind, nameOf(json))}: At least one of apiVersion, kind and name was changed; edit other fields only`,
          );
          failedEdits.push(json);
          continue;
        }
        if (jsonEqual(before.original, json)) continue;
        try {
          await client.update(kind, kind.namespaced ? namespaceOf(json) : "", fromJson(json));
          ctx.out(`${objectName(kind, nameOf(json))} edited\n`);
        } catch (err) {
          const text = describeError(err, ctx.serverForMessages()).text;
          errors.push(
            `${str(json, "kind").toLowerCase()}s "${nameOf(json)}" was not valid:\n* ${text}`,
          );
          failed.push(before);
          failedEdits.push(json);
        }
      }
      if (errors.length === 0) return 0;
      pending = failed.length > 0 ? failed : pending;
      content = documentFor(failedEdits.length > 0 ? failedEdits : objects.map((o) => o.json));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
