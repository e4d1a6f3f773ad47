// tug get: kubectl's get. Objects by name or by label and field selector, in one namespace
// or all (-A), printed as kubectl's tables or -o wide|yaml|json|name; -w keeps printing rows
// as changes arrive until interrupted.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_get/

import type { JsonObject, KindInfo } from "@tug/api";
import { describeError, hasReason } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { sortEventsByLastSeen } from "../printers/event-order.js";
import { str } from "../printers/json-view.js";
import {
  type CustomColumn,
  customColumnCell,
  parseCustomColumns,
  printJsonPath,
} from "../printers/jsonpath.js";
import {
  type OutputSpec,
  objectName,
  parseOutputFormat,
  printStructured,
  printTable,
  type TableOptions,
} from "../printers/object-printer.js";
import { formatTable } from "../printers/table.js";
import { nameOf, toJson } from "./object-json.js";
import { parseResourceArgs } from "./resource-args.js";

export interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  watch?: boolean;
  watchOnly?: boolean;
  allNamespaces?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
}

interface Fetched {
  readonly kind: KindInfo;
  readonly objects: JsonObject[];
  /** True when names were asked for (one object prints as itself with -o yaml). */
  readonly byName: boolean;
  readonly resourceVersion: string;
}

/** "No resources found in default namespace." / "No resources found", as kubectl says. */
export function noResourcesMessage(namespace: string): string {
  return namespace === "" ? "No resources found" : `No resources found in ${namespace} namespace.`;
}

export async function runGet(
  ctx: CommandContext,
  args: readonly string[],
  options: GetOptions,
): Promise<number> {
  const spec = parseOutputFormat(options.output);
  const format = spec.format;
  const columns = format === "custom-columns" ? parseCustomColumns(spec.template) : [];
  const selections = parseResourceArgs(args, "get");
  const watching = options.watch === true || options.watchOnly === true;
  if (watching && selections.length > 1) {
    throw new CliError("you may only specify a single resource type with --watch");
  }
  if (options.allNamespaces && selections.some((s) => s.names.length > 0)) {
    throw new CliError(
      "a resource cannot be retrieved by name across all namespaces; drop -A or the names",
    );
  }
  const client = await ctx.client();
  const fetched: Fetched[] = [];
  let failed = false;
  for (const { kind, names } of selections) {
    const namespace = await ctx.namespaceFor(kind, options.allNamespaces);
    if (names.length > 0) {
      const objects: JsonObject[] = [];
      for (const name of names) {
        try {
          objects.push(toJson(await client.get(kind, namespace, name)));
        } catch (err) {
          failed = true;
          ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
        }
      }
      fetched.push({ kind, objects, byName: true, resourceVersion: "" });
    } else if (!(options.watchOnly ?? false) || watching) {
      const list = await client.list(kind, namespace, {
        labelSelector: options.selector,
        fieldSelector: options.fieldSelector,
      });
      fetched.push({
        kind,
        objects:
          kind.kind === "Event"
            ? sortEventsByLastSeen(list.items.map(toJson))
            : list.items.map(toJson),
        byName: false,
        resourceVersion: list.resourceVersion,
      });
    }
  }

  const tableOptions = (kind: KindInfo, noHeaders: boolean): TableOptions => ({
    wide: format === "wide",
    withNamespace: options.allNamespaces === true && kind.namespaced,
    showLabels: options.showLabels === true,
    noHeaders,
    qualifyNames: selections.length > 1,
  });
  const total = fetched.reduce((n, f) => n + f.objects.length, 0);
  if (!(options.watchOnly ?? false)) {
    if (total === 0 && !failed && selections.every((s) => s.names.length === 0)) {
      const first = selections[0];
      const namespace =
        first === undefined ? "" : await ctx.namespaceFor(first.kind, options.allNamespaces);
      if (format === "json" || format === "yaml") {
        ctx.out(printStructured([], format, true));
      } else {
        ctx.io.stderr.write(`${noResourcesMessage(namespace)}\n`);
      }
    } else {
      printFetched(ctx, fetched, spec, columns, (kind) =>
        tableOptions(kind, options.noHeaders === true),
      );
    }
  }

  if (watching) {
    const [first] = fetched;
    if (first !== undefined) {
      await watchAndPrint(
        ctx,
        first,
        options,
        spec,
        columns,
        total > 0 && !(options.watchOnly ?? false),
        tableOptions,
      );
    }
  }
  return failed ? 1 : 0;
}

function printFetched(
  ctx: CommandContext,
  fetched: readonly Fetched[],
  spec: OutputSpec,
  columns: readonly CustomColumn[],
  tableOptions: (kind: KindInfo) => TableOptions,
): void {
  const format = spec.format;
  const all = fetched.flatMap((f) => f.objects.map((json) => ({ kind: f.kind, json })));
  const single = fetched.length === 1 && fetched[0]?.byName === true && all.length === 1;
  if (format === "json" || format === "yaml") {
    if (all.length > 0) ctx.out(printStructured(all, format, !single));
    return;
  }
  if (format === "jsonpath") {
    const root: JsonObject = single
      ? (all[0]?.json ?? {})
      : {
          apiVersion: "v1",
          kind: "List",
          items: all.map((o) => o.json),
          metadata: { resourceVersion: "" },
        };
    ctx.out(printJsonPath(spec.template, root));
    return;
  }
  if (format === "custom-columns") {
    const text = formatTable(
      columns.map((c) => c.header),
      all.map((o) => columns.map((c) => customColumnCell(c, o.json))),
    );
    const [first] = fetched;
    const noHeaders = first !== undefined && tableOptions(first.kind).noHeaders;
    ctx.out(noHeaders ? text.slice(text.indexOf("\n") + 1) : text);
    return;
  }
  if (format === "name") {
    for (const o of all) ctx.out(`${objectName(o.kind, nameOf(o.json))}\n`);
    return;
  }
  let first = true;
  for (const f of fetched) {
    if (f.objects.length === 0) continue;
    if (!first) ctx.out("\n");
    first = false;
    ctx.out(printTable(f.kind, f.objects, tableOptions(f.kind), ctx.io.now()));
  }
}

/**
 * Where -w starts: the list's version; for objects fetched by name, the oldest of their
 * versions (so none of their later changes is missed and none is printed twice); "0" (the
 * current state first) when neither is known.
 */
function watchStart(from: Fetched): string {
  if (from.resourceVersion !== "") return from.resourceVersion;
  const versions = from.objects
    .map((o) => str(o, "metadata", "resourceVersion"))
    .filter((v) => /^\d+$/.test(v))
    .map((v) => BigInt(v));
  let oldest: bigint | undefined;
  for (const v of versions) if (oldest === undefined || v < oldest) oldest = v;
  return oldest === undefined ? "0" : `${oldest}`;
}

async function watchAndPrint(
  ctx: CommandContext,
  from: Fetched,
  options: GetOptions,
  spec: OutputSpec,
  columns: readonly CustomColumn[],
  headerPrinted: boolean,
  tableOptions: (kind: KindInfo, noHeaders: boolean) => TableOptions,
): Promise<void> {
  const client = await ctx.client();
  const kind = from.kind;
  const namespace = await ctx.namespaceFor(kind, options.allNamespaces);
  const names = new Set(from.byName ? from.objects.map(nameOf) : []);
  let header = headerPrinted || options.noHeaders === true;
  let resourceVersion = watchStart(from);
  // A watch ends when the user interrupts. The server may end it sooner: normally (watch
  // again from the last version seen) or with Expired (that version is compacted: list
  // again, silently, and watch from the list's version), as kubectl's watch does.
  while (!ctx.io.signal.aborted) {
    try {
      const events = client.watch(kind, namespace, {
        labelSelector: options.selector,
        fieldSelector: options.fieldSelector,
        resourceVersion,
        signal: ctx.io.signal,
      });
      for await (const event of events) {
        const json = toJson(event.object);
        resourceVersion = str(json, "metadata", "resourceVersion") || resourceVersion;
        if (event.type === "BOOKMARK") continue;
        if (names.size > 0 && !names.has(nameOf(json))) continue;
        const format = spec.format;
        if (format === "json" || format === "yaml") {
          ctx.out(printStructured([{ kind, json }], format, false));
        } else if (format === "jsonpath") {
          ctx.out(printJsonPath(spec.template, json));
        } else if (format === "custom-columns") {
          const text = formatTable(
            columns.map((c) => c.header),
            [columns.map((c) => customColumnCell(c, json))],
          );
          ctx.out(header ? text.slice(text.indexOf("\n") + 1) : text);
          header = true;
        } else if (format === "name") {
          ctx.out(`${objectName(kind, nameOf(json))}\n`);
        } else {
          ctx.out(printTable(kind, [json], tableOptions(kind, header), ctx.io.now()));
          header = true;
        }
      }
    } catch (err) {
      if (ctx.io.signal.aborted) return;
      if (!hasReason(err, "Expired") && !hasReason(err, "Gone")) throw err;
      const list = await client.list(kind, namespace, {
        labelSelector: options.selector,
        fieldSelector: options.fieldSelector,
      });
      resourceVersion = list.resourceVersion;
    }
  }
}
