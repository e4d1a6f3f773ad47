// kubectl's ways of naming what a command is about: `pods`, `pods web api`,
// `pods,services`, `pod/web deploy/api`. Type names resolve through the scheme (plural,
// singular, short name, Kind, optionally group-qualified).
// https://kubernetes.io/docs/reference/kubectl/#syntax

import { type KindInfo, resolveKindName } from "@tug/api";
import { CliError } from "../cli-error.js";

/**
 * kubectl's "all" category: the workload kinds and services (not configmaps, secrets or
 * anything cluster-scoped).
 */
export const ALL_CATEGORY = [
  "pods",
  "services",
  "daemonsets.apps",
  "deployments.apps",
  "replicasets.apps",
  "statefulsets.apps",
  "jobs.batch",
  "cronjobs.batch",
] as const;

/** One kind and the names asked for (empty: every object that matches the selectors). */
export interface ResourceSelection {
  readonly kind: KindInfo;
  readonly names: string[];
}

/** The kind a user named, as a CliError with the scheme's hint when unknown. */
export function resolveKind(name: string): KindInfo {
  try {
    return resolveKindName(name);
  } catch (err) {
    throw new CliError((err as Error).message, { cause: err });
  }
}

/**
 * Parses TYPE[,TYPE...] [NAME...] or TYPE/NAME... Kinds keep the order given; names of the
 * TYPE/NAME form are grouped per kind.
 */
export function parseResourceArgs(args: readonly string[], verb: string): ResourceSelection[] {
  const [first, ...rest] = args;
  if (first === undefined) {
    throw new CliError(
      `you must specify the type of resource to ${verb}; list the types with \`tug api-resources\` (e.g. \`tug ${verb} pods\`)`,
    );
  }
  if (first.includes("/")) {
    const selections: ResourceSelection[] = [];
    for (const arg of args) {
      const slash = arg.indexOf("/");
      if (slash <= 0 || slash === arg.length - 1) {
        throw new CliError(
          `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'tug ${verb} pod/web' instead of 'tug ${verb} pod pod/web'); "${arg}" is not TYPE/NAME`,
        );
      }
      const kind = resolveKind(arg.slice(0, slash));
      const name = arg.slice(slash + 1);
      const existing = selections.find((s) => s.kind === kind);
      if (existing === undefined) selections.push({ kind, names: [name] });
      else existing.names.push(name);
    }
    return selections;
  }
  if (rest.some((name) => name.includes("/"))) {
    throw new CliError(
      `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'tug ${verb} pod/web' instead of 'tug ${verb} pod pod/web')`,
    );
  }
  const kinds = first
    .split(",")
    .filter((t) => t !== "")
    .flatMap((t) => (t.toLowerCase() === "all" ? ALL_CATEGORY.map(resolveKind) : [resolveKind(t)]));
  return [...new Set(kinds)].map((kind) => ({ kind, names: [...rest] }));
}
