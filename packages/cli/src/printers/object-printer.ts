// `tug get`'s output formats: kubectl's tables (default and -o wide, with -A's NAMESPACE column
// and --show-labels' LABELS column), -o name ("pod/web", "deployment.apps/web"), and -o json /
// -o yaml (one object as itself, several as a kind: List).
// https://kubernetes.io/docs/reference/kubectl/#output-options

import type { JsonObject, KindInfo } from "@tug/api";
import { stringify } from "yaml";
import { str, stringMap } from "./json-view.js";
import { formatMap, kindTable } from "./kind-tables.js";
import { formatTable } from "./table.js";

/** The formats -o accepts; jsonpath and custom-columns take a template after "=". */
export const OUTPUT_FORMATS = [
  "wide",
  "yaml",
  "json",
  "name",
  "jsonpath",
  "custom-columns",
] as const;
export type OutputFormat = "" | (typeof OUTPUT_FORMATS)[number];

/** A parsed -o: the format, and the template of jsonpath=... or custom-columns=.... */
export interface OutputSpec {
  readonly format: OutputFormat;
  readonly template: string;
}

/** One object to print, as Kubernetes JSON, with its kind. */
export interface PrintedObject {
  readonly kind: KindInfo;
  readonly json: JsonObject;
}

export interface TableOptions {
  readonly wide: boolean;
  /** Adds NAMESPACE as the first column (-A). */
  readonly withNamespace: boolean;
  /** Adds LABELS as the last column (--show-labels). */
  readonly showLabels: boolean;
  /** Leaves out the header line (watch rows after the first, --no-headers). */
  readonly noHeaders: boolean;
  /** Names objects "pod/web" in the NAME column, as kubectl does when several kinds print. */
  readonly qualifyNames?: boolean;
}

/** Validates -o; throws a usage error naming the allowed formats. */
export function parseOutputFormat(raw: string | undefined): OutputSpec {
  // `-o=json` reaches here as "=json" (commander keeps the "=" of a short option).
  const value = raw?.startsWith("=") ? raw.slice(1) : raw;
  if (value === undefined || value === "") return { format: "", template: "" };
  const eq = value.indexOf("=");
  const name = eq < 0 ? value : value.slice(0, eq);
  const template = eq < 0 ? "" : value.slice(eq + 1);
  const takesTemplate = name === "jsonpath" || name === "custom-columns";
  if (takesTemplate && template === "") {
    throw new Error(
      `${name} needs a template, e.g. -o ${name}=${name === "jsonpath" ? "'{.metadata.name}'" : "NAME:.metadata.name"}`,
    );
  }
  if ((OUTPUT_FORMATS as readonly string[]).includes(name) && (takesTemplate || eq < 0)) {
    return { format: name as OutputFormat, template };
  }
  throw new Error(
    `unable to match a printer suitable for the output format "${value}", allowed formats are: wide,yaml,json,name,jsonpath=TEMPLATE,custom-columns=SPEC`,
  );
}

/** The header and rows of objects of one kind. */
export function tableRows(
  kind: KindInfo,
  objects: readonly JsonObject[],
  options: TableOptions,
  now: Date,
): { header: string[]; rows: string[][] } {
  const table = kindTable(kind.kind);
  const wide = options.wide && table.wideHeader !== undefined;
  const header = [...table.header, ...(wide ? (table.wideHeader ?? []) : [])];
  if (options.withNamespace) header.unshift("NAMESPACE");
  if (options.showLabels) header.push("LABELS");
  const rows = objects.map((o) => {
    const row = [...table.row(o, now), ...(wide ? (table.wideRow?.(o, now) ?? []) : [])];
    const nameColumn = table.header.indexOf("NAME");
    if (options.qualifyNames === true && nameColumn >= 0) {
      row[nameColumn] = objectName(kind, row[nameColumn] ?? "");
    }
    if (options.withNamespace) row.unshift(str(o, "metadata", "namespace"));
    if (options.showLabels) row.push(formatMap(stringMap(o, "metadata", "labels")));
    return row;
  });
  return { header, rows };
}

/** Objects of one kind as a kubectl table. */
export function printTable(
  kind: KindInfo,
  objects: readonly JsonObject[],
  options: TableOptions,
  now: Date,
): string {
  const { header, rows } = tableRows(kind, objects, options, now);
  const text = formatTable(header, rows);
  return options.noHeaders ? text.slice(text.indexOf("\n") + 1) : text;
}

/** "pod/web", "deployment.apps/web": kubectl's -o name. */
export function objectName(kind: KindInfo, name: string): string {
  return `${kind.singular}${kind.group === "" ? "" : `.${kind.group}`}/${name}`;
}

/** One object, or a List of several, as JSON or YAML text. */
export function printStructured(
  objects: readonly PrintedObject[],
  format: "json" | "yaml",
  asList: boolean,
): string {
  const value: JsonObject =
    asList || objects.length !== 1
      ? {
          apiVersion: "v1",
          kind: "List",
          items: objects.map((o) => o.json),
          metadata: { resourceVersion: "" },
        }
      : (objects[0] as PrintedObject).json;
  return format === "json" ? `${JSON.stringify(value, null, 4)}\n` : toYaml(value);
}

/**
 * YAML as kubectl writes it: block style, sequences not indented under their key, long strings
 * never folded, and strings that YAML 1.1 would read as something else quoted ("yes", "on",
 * timestamps, "0644"), since Kubernetes and `tug apply` read YAML as 1.1.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { indentSeq: false, lineWidth: 0, version: "1.1" });
}
