// kubectl's -o jsonpath and -o custom-columns: a template of literal text and {expressions}
// over an object's Kubernetes JSON. The subset kubectl users write: {.a.b}, {.items[0]},
// {.items[*].metadata.name}, {.a['dotted.key']}, {.items[?(@.type=="Ready")].status},
// {range .items[*]}...{end} and string literals {"\n"}. Several results print space-separated;
// objects and lists print as JSON.
// https://kubernetes.io/docs/reference/kubectl/jsonpath/

import type { JsonValue } from "@tug/api";
import { CliError } from "../cli-error.js";

type Step =
  | { readonly kind: "field"; readonly name: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "wildcard" }
  | {
      readonly kind: "filter";
      readonly path: readonly Step[];
      readonly op: "==" | "!=" | "<" | ">" | "exists";
      readonly value: string | number;
    };

type Node =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "path"; readonly steps: readonly Step[] }
  | { readonly kind: "range"; readonly steps: readonly Step[]; readonly body: readonly Node[] };

function fail(template: string, why: string): never {
  throw new CliError(`error parsing jsonpath ${template}: ${why}`);
}

/** Parses a path such as `.items[*].metadata.name` (a leading @ or $ is allowed). */
function parsePath(source: string, template: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  if (source[i] === "@" || source[i] === "$") i++;
  while (i < source.length) {
    const c = source[i];
    if (c === ".") {
      i++;
      if (source[i] === "*") {
        steps.push({ kind: "wildcard" });
        i++;
        continue;
      }
      const start = i;
      while (i < source.length && /[A-Za-z0-9_\-/]/.test(source[i] ?? "")) i++;
      if (i === start) {
        if (i >= source.length) break; // "{.}" is the whole object
        fail(template, `unexpected "${source[i]}" after "." in "${source}"`);
      }
      steps.push({ kind: "field", name: source.slice(start, i) });
    } else if (c === "[") {
      const close = findClose(source, i, template);
      const inner = source.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === "*") steps.push({ kind: "wildcard" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else if (inner.startsWith("?(") && inner.endsWith(")"))
        steps.push(parseFilter(inner.slice(2, -1), template));
      else
        fail(template, `cannot read "[${inner}]": use [n], [*], ['key'] or [?(@.field=="value")]`);
    } else {
      fail(template, `unexpected "${c}" in "${source}"; paths look like .metadata.name`);
    }
  }
  return steps;
}

function findClose(source: string, open: number, template: string): number {
  let depth = 0;
  let quote = "";
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "[") depth++;
    else if (c === "]" && --depth === 0) return i;
  }
  return fail(template, `unclosed "[" in "${source}"`);
}

function parseFilter(source: string, template: string): Step {
  const match = /^(@[^=!<>]*?)\s*(==|!=|<|>)\s*(.+)$/.exec(source.trim());
  if (match === null) {
    if (source.trim().startsWith("@")) {
      return { kind: "filter", path: parsePath(source.trim(), template), op: "exists", value: "" };
    }
    return fail(template, `cannot read the filter "?(${source})": use ?(@.field=="value")`);
  }
  const raw = (match[3] ?? "").trim();
  const value = /^'.*'$|^".*"$/.test(raw) ? raw.slice(1, -1) : Number(raw);
  if (typeof value === "number" && Number.isNaN(value)) {
    fail(template, `the filter value ${raw} must be a quoted string or a number`);
  }
  return {
    kind: "filter",
    path: parsePath(match[1] ?? "@", template),
    op: match[2] as "==" | "!=" | "<" | ">",
    value,
  };
}

/** Parses a whole template into nodes; {range}...{end} nest. */
export function parseTemplate(template: string): Node[] {
  const stack: { steps: Step[]; body: Node[] }[] = [{ steps: [], body: [] }];
  const top = () => stack[stack.length - 1] as { steps: Step[]; body: Node[] };
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    if (open < 0) {
      top().body.push({ kind: "text", text: template.slice(i) });
      break;
    }
    if (open > i) top().body.push({ kind: "text", text: template.slice(i, open) });
    const close = template.indexOf("}", open);
    if (close < 0) fail(template, `unclosed "{"`);
    const action = template.slice(open + 1, close).trim();
    i = close + 1;
    if (action.startsWith('"') && action.endsWith('"') && action.length >= 2) {
      top().body.push({ kind: "text", text: JSON.parse(action) as string });
    } else if (action.startsWith("range ")) {
      stack.push({ steps: parsePath(action.slice("range ".length).trim(), template), body: [] });
    } else if (action === "end") {
      if (stack.length === 1) fail(template, `{end} without {range}`);
      const done = stack.pop() as { steps: Step[]; body: Node[] };
      top().body.push({ kind: "range", steps: done.steps, body: done.body });
    } else {
      top().body.push({ kind: "path", steps: parsePath(action, template) });
    }
  }
  if (stack.length !== 1) fail(template, `{range} without {end}`);
  return top().body;
}

function compare(value: JsonValue | undefined, op: Step & { kind: "filter" }): boolean {
  if (op.op === "exists") return value !== undefined && value !== null;
  if (op.op === "==")
    return value === op.value || (typeof value === "number" && `${value}` === `${op.value}`);
  if (op.op === "!=")
    return !(value === op.value || (typeof value === "number" && `${value}` === `${op.value}`));
  if (typeof value !== "number" || typeof op.value !== "number") return false;
  return op.op === "<" ? value < op.value : value > op.value;
}

/** Every value the steps reach from `root`, in order; missing members reach nothing. */
export function evaluate(root: JsonValue | undefined, steps: readonly Step[]): JsonValue[] {
  let current: JsonValue[] = root === undefined ? [] : [root];
  for (const step of steps) {
    const next: JsonValue[] = [];
    for (const value of current) {
      if (step.kind === "field") {
        if (typeof value === "object" && value !== null && !Array.isArray(value)) {
          const member = value[step.name];
          if (member !== undefined) next.push(member);
        }
      } else if (step.kind === "index") {
        if (Array.isArray(value)) {
          const item = value[step.index < 0 ? value.length + step.index : step.index];
          if (item !== undefined) next.push(item);
        }
      } else if (step.kind === "wildcard") {
        if (Array.isArray(value)) next.push(...value);
        else if (typeof value === "object" && value !== null) next.push(...Object.values(value));
      } else if (Array.isArray(value)) {
        for (const item of value) {
          const [found] = evaluate(item, step.path);
          if (compare(found, step)) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

/** A value as kubectl's jsonpath prints it: strings bare, the rest as JSON. */
export function formatValue(value: JsonValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return `${value}`;
}

function render(nodes: readonly Node[], root: JsonValue): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "path") out += evaluate(root, node.steps).map(formatValue).join(" ");
    else for (const item of evaluate(root, node.steps)) out += render(node.body, item);
  }
  return out;
}

/** Renders a jsonpath template (with or without braces, as kubectl accepts `.a.b`). */
export function printJsonPath(template: string, root: JsonValue): string {
  const normalized = template.includes("{") ? template : `{${template}}`;
  return render(parseTemplate(normalized), root);
}

/** One custom column: its header and the path of its cells. */
export interface CustomColumn {
  readonly header: string;
  readonly steps: readonly Step[];
}

/** Parses `NAME:.metadata.name,IP:.status.podIP` (-o custom-columns=...). */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec.trim() === "")
    throw new CliError("custom-columns format specified but no custom columns given");
  return spec.split(",").map((part) => {
    const colon = part.indexOf(":");
    if (colon <= 0) {
      throw new CliError(
        `unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr> (e.g. NAME:.metadata.name)`,
      );
    }
    const path = part.slice(colon + 1).trim();
    const inner = path.startsWith("{") && path.endsWith("}") ? path.slice(1, -1) : path;
    return { header: part.slice(0, colon), steps: parsePath(inner, path) };
  });
}

/** A custom-columns cell: the values the path reaches, comma-joined; "<none>" when none. */
export function customColumnCell(column: CustomColumn, object: JsonValue): string {
  const values = evaluate(object, column.steps);
  return values.length === 0 ? "<none>" : values.map(formatValue).join(",");
}
