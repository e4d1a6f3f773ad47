// tug describe: kubectl's describe. One readable page per object (kubectl's sections for pods,
// deployments, replicasets, nodes and services; every field for other kinds) followed by the
// object's events, found with the field selector kubectl uses
// (involvedObject.name/namespace/kind/uid).
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_describe/

import { type JsonObject, type KindInfo, resolveKindName } from "@tug/api";
import { describeError, hasReason } from "../api-status.js";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import {
  describeConfigMap,
  describeDeployment,
  describeEvents,
  describeGeneric,
  describeNode,
  describePod,
  describeReplicaSet,
  describeSecret,
  describeService,
} from "../describe/describers.js";
import { str } from "../printers/json-view.js";
import { noResourcesMessage } from "./get.js";
import { nameOf, namespaceOf, toJson } from "./object-json.js";
import { parseResourceArgs } from "./resource-args.js";

export interface DescribeOptions {
  selector?: string;
  allNamespaces?: boolean;
  showEvents?: boolean;
}

/** The field selector of the events about one object. */
export function eventSelector(kind: KindInfo, o: JsonObject): string {
  const parts = [`involvedObject.name=${nameOf(o)}`, `involvedObject.kind=${kind.kind}`];
  if (kind.namespaced) parts.push(`involvedObject.namespace=${namespaceOf(o)}`);
  const uid = str(o, "metadata", "uid");
  if (uid !== "") parts.push(`involvedObject.uid=${uid}`);
  return parts.join(",");
}

async function page(
  ctx: CommandContext,
  kind: KindInfo,
  o: JsonObject,
  showEvents: boolean,
): Promise<string> {
  const client = await ctx.client();
  const now = ctx.io.now();
  let body: string;
  switch (kind.kind) {
    case "Pod":
      body = describePod(o, now);
      break;
    case "Deployment":
      body = describeDeployment(o);
      break;
    case "ReplicaSet":
      body = describeReplicaSet(o);
      break;
    case "Node":
      body = describeNode(o);
      break;
    case "ConfigMap":
      body = describeConfigMap(o);
      break;
    case "Secret":
      body = describeSecret(o);
      break;
    case "Service": {
      let endpoints: JsonObject | undefined;
      try {
        endpoints = toJson(
          await client.get(resolveKindName("endpoints"), namespaceOf(o), nameOf(o)),
        );
      } catch (err) {
        if (!hasReason(err, "NotFound")) throw err;
      }
      body = describeService(o, endpoints);
      break;
    }
    default:
      body = describeGeneric(o, kind.namespaced);
  }
  if (!showEvents || kind.kind === "Event") return body;
  let events: JsonObject[] = [];
  try {
    const list = await client.list(
      resolveKindName("events"),
      kind.namespaced ? namespaceOf(o) : "",
      {
        fieldSelector: eventSelector(kind, o),
      },
    );
    events = list.items.map(toJson);
  } catch (err) {
    // Events are a courtesy: an object is still described when they cannot be read.
    if (!hasReason(err, "Forbidden") && !hasReason(err, "BadRequest")) throw err;
  }
  return `${body}${describeEvents(events, now)}`;
}

async function byPrefix(
  ctx: CommandContext,
  kind: KindInfo,
  namespace: string,
  prefix: string,
): Promise<JsonObject[]> {
  const list = await (await ctx.client()).list(kind, namespace);
  return list.items.map(toJson).filter((o) => nameOf(o).startsWith(prefix));
}

export async function runDescribe(
  ctx: CommandContext,
  args: readonly string[],
  options: DescribeOptions,
): Promise<number> {
  const selections = parseResourceArgs(args, "describe");
  const client = await ctx.client();
  const pages: string[] = [];
  let failed = false;
  for (const { kind, names } of selections) {
    const namespace = await ctx.namespaceFor(kind, options.allNamespaces);
    const objects: JsonObject[] = [];
    if (names.length > 0) {
      for (const name of names) {
        try {
          objects.push(toJson(await client.get(kind, namespace, name)));
        } catch (err) {
          // As kubectl: a name that matches nothing exactly describes the objects whose
          // names start with it (`tug describe pod web` finds web-5d9c-x2x).
          const prefixed = hasReason(err, "NotFound")
            ? await byPrefix(ctx, kind, namespace, name)
            : [];
          if (prefixed.length > 0) {
            objects.push(...prefixed);
            continue;
          }
          failed = true;
          ctx.io.stderr.write(`${describeError(err, ctx.serverForMessages()).text}\n`);
        }
      }
    } else {
      const list = await client.list(kind, namespace, { labelSelector: options.selector });
      objects.push(...list.items.map(toJson));
      if (objects.length === 0) ctx.io.stderr.write(`${noResourcesMessage(namespace)}\n`);
    }
    for (const o of objects) pages.push(await page(ctx, kind, o, options.showEvents !== false));
  }
  if (pages.length === 0 && !failed && selections.length === 0) {
    throw new CliError("name what to describe, e.g. `tug describe pod web`");
  }
  ctx.out(pages.join("\n\n"));
  return failed ? 1 : 0;
}
