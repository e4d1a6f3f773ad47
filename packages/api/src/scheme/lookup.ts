// Finding a kind: by apiVersion and kind (what a manifest says), by group and resource (what
// a URL or store key says), by message (what code holds), and by whatever name a user types
// on the command line (kubectl's rules: plural, singular, short name or Kind, optionally
// qualified by group, "deployments.apps", or by version and group, "deployments.v1.apps").

import type { Message } from "@bufbuild/protobuf";
import { allKinds, type KindInfo } from "./kinds.js";
import { SchemeError } from "./scheme-error.js";

const byApiVersionKind = new Map<string, KindInfo>();
const byGroupResource = new Map<string, KindInfo>();
const byTypeName = new Map<string, KindInfo>();
const byListTypeName = new Map<string, KindInfo>();
/** Lower-cased user-facing names (plural, singular, short, kind) to the kinds they name. */
const byName = new Map<string, KindInfo[]>();

for (const info of allKinds) {
  byApiVersionKind.set(`${info.apiVersion}\0${info.kind}`, info);
  byGroupResource.set(`${info.group}\0${info.resource}`, info);
  byTypeName.set(info.schema.typeName, info);
  if (info.listSchema !== undefined) byListTypeName.set(info.listSchema.typeName, info);
  if (info.subresourceBody) continue;
  const names = new Set([
    info.resource,
    info.singular,
    info.kind.toLowerCase(),
    ...info.shortNames,
  ]);
  for (const name of names) {
    const list = byName.get(name) ?? [];
    list.push(info);
    byName.set(name, list);
  }
}

/** The kind a manifest's apiVersion ("v1", "apps/v1") and kind ("Deployment") name. */
export function kindFor(apiVersion: string, kind: string): KindInfo | undefined {
  return byApiVersionKind.get(`${apiVersion}\0${kind}`);
}

/** The kind stored under a group ("" for core) and resource ("deployments"). */
export function kindForResource(group: string, resource: string): KindInfo | undefined {
  return byGroupResource.get(`${group}\0${resource}`);
}

/**
 * The kind of a message: an object of a kind, or a list of one (PodList gives Pod).
 * Undefined for messages that are not API objects (PodSpec, ObjectMeta, ...).
 */
export function kindForMessage(message: Message): KindInfo | undefined {
  return byTypeName.get(message.$typeName) ?? byListTypeName.get(message.$typeName);
}

/**
 * The kind a user means by `name`, as kubectl resolves `kubectl get <name>`: a resource
 * ("pods"), singular ("pod"), short name ("po") or kind ("Pod"), case-insensitive, optionally
 * followed by ".<group>" ("deployments.apps", "roles.rbac.authorization.k8s.io") or
 * ".<version>.<group>" ("deployments.v1.apps"); "core" names the core group.
 * Throws SchemeError not_found naming the input when nothing or more than one kind matches.
 */
export function resolveKindName(name: string): KindInfo {
  const lower = name.trim().toLowerCase();
  const dot = lower.indexOf(".");
  const base = dot < 0 ? lower : lower.slice(0, dot);
  const candidates = byName.get(base) ?? [];
  let matches: KindInfo[] = candidates;
  if (dot >= 0) {
    const qualifier = lower.slice(dot + 1);
    const versioned = /^(v\d+(?:(?:alpha|beta)\d+)?)\.(.+)$/.exec(qualifier);
    const group = (g: string) => (g === "core" ? "" : g);
    matches = candidates.filter(
      (info) =>
        info.group === group(qualifier) ||
        (versioned !== null &&
          info.version === versioned[1] &&
          info.group === group(versioned[2] ?? "")),
    );
  }
  const [only, ...rest] = matches;
  if (only !== undefined && rest.length === 0) return only;
  if (only === undefined) {
    throw new SchemeError(
      "not_found",
      `the server doesn't have a resource type "${name}"; list the known types with \`tug api-resources\``,
    );
  }
  const qualified = matches.map((info) => `${info.resource}.${info.group || "core"}`).join(", ");
  throw new SchemeError(
    "not_found",
    `resource type "${name}" is ambiguous: it names ${qualified}; qualify it with its group`,
  );
}

/**
 * The kind of an object a manifest or request names by apiVersion and kind. Throws
 * SchemeError not_found in Kubernetes' words (`no matches for kind "X" in version "Y"`),
 * with a hint when the kind exists under another apiVersion or differs only in case.
 */
export function requireKind(apiVersion: string, kind: string): KindInfo {
  const found = kindFor(apiVersion, kind);
  if (found !== undefined) return found;
  let hint = "";
  const sameName = allKinds.filter((info) => info.kind.toLowerCase() === kind.toLowerCase());
  if (sameName.length > 0) {
    hint = `; did you mean ${sameName.map((info) => `apiVersion: ${info.apiVersion}, kind: ${info.kind}`).join(" or ")}?`;
  } else {
    const inVersion = allKinds.filter((info) => info.apiVersion === apiVersion);
    hint =
      inVersion.length > 0
        ? `; ${apiVersion} has ${inVersion.map((info) => info.kind).join(", ")}`
        : `; apiVersion "${apiVersion}" is not served (tug serves ${[...new Set(allKinds.map((info) => info.apiVersion))].join(", ")})`;
  }
  throw new SchemeError(
    "not_found",
    `no matches for kind "${kind}" in version "${apiVersion}"${hint}`,
  );
}
