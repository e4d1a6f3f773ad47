// The `tug config` subcommands as pure functions on a TugConfig (kubectl config's verbs and
// messages): view with tokens redacted, use-context, set-context, set-cluster,
// set-credentials, get-contexts; and resolving which server, token and namespace a command
// talks to once global flags have had their say.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_config/

import { CliError } from "../cli-error.js";
import { formatTable } from "../printers/table.js";
import type { NamedContext, TugConfig } from "./tug-config.js";

/** kubectl's placeholder for secrets in `config view` without --raw. */
export const REDACTED = "REDACTED";

/** The config with tokens replaced by REDACTED, unless `raw`. */
export function viewConfig(config: TugConfig, raw: boolean): TugConfig {
  if (raw) return config;
  return {
    ...config,
    users: config.users.map((u) => ({
      name: u.name,
      user: u.user.token === undefined ? {} : { token: REDACTED },
    })),
  };
}

/** Makes `name` the current context; it must exist. Returns kubectl's message. */
export function useContext(config: TugConfig, name: string): string {
  if (!config.contexts.some((c) => c.name === name)) {
    throw new CliError(
      `no context exists with the name: "${name}"; list them with \`tug config get-contexts\``,
    );
  }
  config["current-context"] = name;
  return `Switched to context "${name}".`;
}

export interface ContextFields {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/**
 * Creates or modifies a context, setting only the fields given. `name` undefined with
 * `current` modifies the current context. Returns kubectl's message.
 */
export function setContext(
  config: TugConfig,
  name: string | undefined,
  current: boolean,
  fields: ContextFields,
): string {
  let target = name;
  if (current) {
    if (name !== undefined) {
      throw new CliError("you cannot specify both a context name and --current");
    }
    target = config["current-context"];
    if (target === "") {
      throw new CliError(
        "no current context is set; name the context, or set one with `tug config use-context`",
      );
    }
  }
  if (target === undefined || target === "") {
    throw new CliError(
      "set-context needs a context name (or --current); e.g. `tug config set-context dev --cluster=local`",
    );
  }
  let entry: NamedContext | undefined = config.contexts.find((c) => c.name === target);
  const created = entry === undefined;
  if (entry === undefined) {
    entry = { name: target, context: { cluster: "", user: "" } };
    config.contexts.push(entry);
  }
  if (fields.cluster !== undefined) entry.context.cluster = fields.cluster;
  if (fields.user !== undefined) entry.context.user = fields.user;
  if (fields.namespace !== undefined) {
    if (fields.namespace === "") delete entry.context.namespace;
    else entry.context.namespace = fields.namespace;
  }
  return `Context "${target}" ${created ? "created" : "modified"}.`;
}

/** Creates or updates a cluster entry. Returns kubectl's message. */
export function setCluster(config: TugConfig, name: string, server: string | undefined): string {
  let entry = config.clusters.find((c) => c.name === name);
  if (entry === undefined) {
    entry = { name, cluster: { server: "" } };
    config.clusters.push(entry);
  }
  if (server !== undefined) entry.cluster.server = server;
  return `Cluster "${name}" set.`;
}

/** Creates or updates a user entry. Returns kubectl's message. */
export function setCredentials(config: TugConfig, name: string, token: string | undefined): string {
  let entry = config.users.find((u) => u.name === name);
  if (entry === undefined) {
    entry = { name, user: {} };
    config.users.push(entry);
  }
  if (token !== undefined) entry.user.token = token;
  return `User "${name}" set.`;
}

/** `kubectl config get-contexts`: CURRENT NAME CLUSTER AUTHINFO NAMESPACE, "*" on the current. */
export function contextsTable(config: TugConfig, only?: string): string {
  const contexts =
    only === undefined ? config.contexts : config.contexts.filter((c) => c.name === only);
  if (only !== undefined && contexts.length === 0) {
    throw new CliError(`context ${only} not found; list them with \`tug config get-contexts\``);
  }
  return formatTable(
    ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"],
    contexts.map((c) => [
      c.name === config["current-context"] ? "*" : "",
      c.name,
      c.context.cluster,
      c.context.user,
      c.context.namespace ?? "",
    ]),
  );
}

/** The default API server address: tug-apiserver's default port on this machine. */
export const DEFAULT_SERVER = "127.0.0.1:6443";

/** Global flags that override the config file. */
export interface ConnectionOverrides {
  server?: string;
  token?: string;
  namespace?: string;
  context?: string;
}

/** Where and as whom a command talks to the API server, and its default namespace. */
export interface Connection {
  /** "host:port" (a scheme such as https:// given by the user is dropped). */
  readonly server: string;
  /** Bearer token; "" for none. */
  readonly token: string;
  readonly namespace: string;
  /** True when the namespace came from -n (kubectl's "explicit namespace"). */
  readonly explicitNamespace: boolean;
}

/**
 * Applies the flags over the config's current (or --context) context. A --context that does
 * not exist, or a context naming a missing cluster or user, is an error saying which.
 */
export function resolveConnection(config: TugConfig, flags: ConnectionOverrides): Connection {
  const contextName = flags.context ?? config["current-context"];
  let cluster: string | undefined;
  let user: string | undefined;
  let namespace: string | undefined;
  if (contextName !== "") {
    const context = config.contexts.find((c) => c.name === contextName);
    if (context === undefined) {
      throw new CliError(
        `context was not found for specified context: ${contextName}; list them with \`tug config get-contexts\``,
      );
    }
    namespace = context.context.namespace;
    if (context.context.cluster !== "") {
      const found = config.clusters.find((c) => c.name === context.context.cluster);
      if (found === undefined && flags.server === undefined) {
        throw new CliError(
          `context "${contextName}" names cluster "${context.context.cluster}", which is not in the config; add it with \`tug config set-cluster ${context.context.cluster} --server=HOST:PORT\``,
        );
      }
      cluster = found?.cluster.server;
    }
    if (context.context.user !== "") {
      user = config.users.find((u) => u.name === context.context.user)?.user.token;
    }
  }
  const server = stripScheme(flags.server ?? (cluster || DEFAULT_SERVER));
  return {
    server,
    token: flags.token ?? user ?? "",
    namespace: flags.namespace ?? namespace ?? "default",
    explicitNamespace: flags.namespace !== undefined,
  };
}

function stripScheme(server: string): string {
  return server.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "");
}
