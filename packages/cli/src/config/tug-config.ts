// tug's client configuration file: kubeconfig's shape (apiVersion v1, kind Config, named
// clusters, users and contexts, current-context) in YAML, at $TUGCONFIG or ~/.tug/config.
// Only the fields tug uses are kept (cluster.server, user.token, context cluster/user/
// namespace); a kubeconfig written by hand with those fields reads unchanged.
// https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { CliError } from "../cli-error.js";

export interface NamedCluster {
  name: string;
  cluster: { server: string };
}

export interface NamedUser {
  name: string;
  user: { token?: string };
}

export interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}

export interface TugConfig {
  apiVersion: "v1";
  kind: "Config";
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  "current-context": string;
}

/** An empty configuration, what a missing file reads as. */
export function emptyConfig(): TugConfig {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [],
    users: [],
    contexts: [],
    "current-context": "",
  };
}

/** The config file's path: $TUGCONFIG, else ~/.tug/config. */
export function configPath(env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env.TUGCONFIG;
  if (explicit !== undefined && explicit !== "") return explicit;
  const home = env.HOME ?? env.USERPROFILE ?? ".";
  return join(home, ".tug", "config");
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function list(value: unknown, path: string, field: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new CliError(`config file ${path}: ${field}: expected a list; fix or remove the file`);
  }
  return value.map(record);
}

/** Parses config YAML; errors name the file and the field. */
export function parseConfig(source: string, path: string): TugConfig {
  let doc: unknown;
  try {
    doc = parse(source);
  } catch (err) {
    throw new CliError(
      `config file ${path} is not valid YAML: ${(err as Error).message.split("\n")[0]}; fix or remove it`,
    );
  }
  if (doc === null || doc === undefined) return emptyConfig();
  const root = record(doc);
  const config = emptyConfig();
  config.clusters = list(root.clusters, path, "clusters").map((c) => ({
    name: text(c.name),
    cluster: { server: text(record(c.cluster).server) },
  }));
  config.users = list(root.users, path, "users").map((u) => {
    const token = text(record(u.user).token);
    return { name: text(u.name), user: token === "" ? {} : { token } };
  });
  config.contexts = list(root.contexts, path, "contexts").map((c) => {
    const ctx = record(c.context);
    const namespace = text(ctx.namespace);
    return {
      name: text(c.name),
      context: {
        cluster: text(ctx.cluster),
        user: text(ctx.user),
        ...(namespace === "" ? {} : { namespace }),
      },
    };
  });
  config["current-context"] = text(root["current-context"]);
  return config;
}

/** Reads the config file; a missing file is an empty configuration. */
export async function loadConfig(path: string): Promise<TugConfig> {
  let source: string;
  try {
    source = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyConfig();
    throw new CliError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  return parseConfig(source, path);
}

/**
 * Writes the config file atomically (a temporary file renamed over it), owner-only since it
 * holds tokens, creating its directory if needed.
 */
export async function saveConfig(path: string, config: TugConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, formatConfig(config), { mode: 0o600 });
  await rename(temporary, path);
}

/** The config as YAML, in kubeconfig's layout (sequences not indented under their key). */
export function formatConfig(config: TugConfig): string {
  return stringify(config, { indentSeq: false, lineWidth: 0, version: "1.1" });
}
