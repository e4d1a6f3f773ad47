// tug api-resources: kubectl's api-resources, from the server's Discover: NAME SHORTNAMES
// APIVERSION NAMESPACED KIND (VERBS with -o wide), core group first, then by group and name.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_api-resources/

import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { formatTable } from "../printers/table.js";

export interface ApiResourcesOptions {
  output?: string;
  namespaced?: string;
  apiGroup?: string;
  noHeaders?: boolean;
}

export async function runApiResources(
  ctx: CommandContext,
  options: ApiResourcesOptions,
): Promise<number> {
  if (options.output !== undefined && options.output !== "wide" && options.output !== "name") {
    throw new CliError(`--output must be wide or name for api-resources, got "${options.output}"`);
  }
  if (
    options.namespaced !== undefined &&
    options.namespaced !== "true" &&
    options.namespaced !== "false"
  ) {
    throw new CliError(`--namespaced must be true or false, got "${options.namespaced}"`);
  }
  const client = await ctx.client();
  const resources = (await client.discover())
    .filter((r) => options.namespaced === undefined || `${r.namespaced}` === options.namespaced)
    .filter((r) => options.apiGroup === undefined || r.group === options.apiGroup)
    .sort((a, b) =>
      a.group === b.group ? (a.name < b.name ? -1 : 1) : a.group < b.group ? -1 : 1,
    );
  if (options.output === "name") {
    for (const r of resources) ctx.out(`${r.name}${r.group === "" ? "" : `.${r.group}`}\n`);
    return 0;
  }
  const wide = options.output === "wide";
  const header = [
    "NAME",
    "SHORTNAMES",
    "APIVERSION",
    "NAMESPACED",
    "KIND",
    ...(wide ? ["VERBS"] : []),
  ];
  const rows = resources.map((r) => [
    r.name,
    r.shortNames.join(","),
    r.group === "" ? r.version : `${r.group}/${r.version}`,
    `${r.namespaced}`,
    r.kind,
    ...(wide ? [`[${r.verbs.join(" ")}]`] : []),
  ]);
  const text = formatTable(header, rows);
  ctx.out(options.noHeaders === true ? text.slice(text.indexOf("\n") + 1) : text);
  return 0;
}
