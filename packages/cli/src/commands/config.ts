// tug config: kubectl config's verbs on tug's config file (view, current-context, use-context,
// set-context, set-cluster, set-credentials, get-contexts, delete-context).
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_config/

import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";
import {
  contextsTable,
  setCluster,
  setContext,
  setCredentials,
  useContext,
  viewConfig,
} from "../config/config-ops.js";
import { formatConfig, loadConfig, saveConfig, type TugConfig } from "../config/tug-config.js";

/** Loads the config, lets `change` edit it and report, saves it, prints the report. */
async function modify(ctx: CommandContext, change: (config: TugConfig) => string): Promise<number> {
  const path = ctx.configPath();
  const config = await loadConfig(path);
  const message = change(config);
  await saveConfig(path, config);
  ctx.out(`${message}\n`);
  return 0;
}

export async function runConfigView(
  ctx: CommandContext,
  options: { raw?: boolean; output?: string },
): Promise<number> {
  const config = viewConfig(await loadConfig(ctx.configPath()), options.raw === true);
  if (options.output === "json") ctx.out(`${JSON.stringify(config, null, 4)}\n`);
  else if (options.output === undefined || options.output === "yaml") ctx.out(formatConfig(config));
  else throw new CliError(`config view prints yaml or json, not "${options.output}"`);
  return 0;
}

export async function runCurrentContext(ctx: CommandContext): Promise<number> {
  const config = await loadConfig(ctx.configPath());
  if (config["current-context"] === "")
    throw new CliError("current-context is not set; set one with `tug config use-context NAME`");
  ctx.out(`${config["current-context"]}\n`);
  return 0;
}

export function runUseContext(ctx: CommandContext, name: string): Promise<number> {
  return modify(ctx, (config) => useContext(config, name));
}

export function runSetContext(
  ctx: CommandContext,
  name: string | undefined,
  options: { cluster?: string; user?: string; namespace?: string; current?: boolean },
): Promise<number> {
  return modify(ctx, (config) =>
    setContext(config, name, options.current === true, {
      cluster: options.cluster,
      user: options.user,
      namespace: options.namespace,
    }),
  );
}

export function runSetCluster(
  ctx: CommandContext,
  name: string,
  options: { server?: string },
): Promise<number> {
  return modify(ctx, (config) => setCluster(config, name, options.server));
}

export function runSetCredentials(
  ctx: CommandContext,
  name: string,
  options: { token?: string },
): Promise<number> {
  return modify(ctx, (config) => setCredentials(config, name, options.token));
}

export function runDeleteContext(ctx: CommandContext, name: string): Promise<number> {
  return modify(ctx, (config) => {
    const before = config.contexts.length;
    config.contexts = config.contexts.filter((c) => c.name !== name);
    if (config.contexts.length === before) {
      throw new CliError(`cannot delete context ${name}, not in ${ctx.configPath()}`);
    }
    if (config["current-context"] === name) config["current-context"] = "";
    return `deleted context ${name} from ${ctx.configPath()}`;
  });
}

export async function runGetContexts(
  ctx: CommandContext,
  name: string | undefined,
): Promise<number> {
  ctx.out(contextsTable(await loadConfig(ctx.configPath()), name));
  return 0;
}
