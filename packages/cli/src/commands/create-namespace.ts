// tug create namespace NAME: kubectl's generator for the one object people most often create
// without a manifest.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_create/kubectl_create_namespace/

import { isDns1123Label, resolveKindName } from "@tug/api";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import { withLastApplied } from "./apply-plan.js";
import { fromJson } from "./object-json.js";

export async function runCreateNamespace(
  ctx: CommandContext,
  name: string,
  options: { saveConfig?: boolean },
): Promise<number> {
  const problems = isDns1123Label(name);
  if (problems.length > 0) {
    throw new CliError(`invalid namespace name "${name}": ${problems.join("; ")}`);
  }
  const manifest = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
  const kind = resolveKindName("namespaces");
  const client = await ctx.client();
  await client.create(
    kind,
    "",
    fromJson(options.saveConfig === true ? withLastApplied(manifest) : manifest),
  );
  ctx.out(`namespace/${name} created\n`);
  return 0;
}
