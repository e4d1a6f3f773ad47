// What every command gets: the injected IO, the global flags, and — on first use — the
// resolved connection and a client for it. Commands never read the config file or open a
// client themselves, so the global flags mean the same everywhere.

import type { KindInfo } from "@tug/api";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import type { CliClient } from "./client/cli-client.js";
import { type Connection, resolveConnection } from "./config/config-ops.js";
import { configPath, loadConfig } from "./config/tug-config.js";

/** kubectl's global flags, as tug accepts them. */
export interface GlobalFlags {
  server?: string;
  namespace?: string;
  context?: string;
  token?: string;
  /** "0" (no deadline), "30s", "2m", "1h", or bare seconds. */
  requestTimeout?: string;
  /** The config file, overriding $TUGCONFIG and ~/.tug/config. */
  tugconfig?: string;
}

/** Parses --request-timeout as kubectl does ("0", "5", "5s", "2m", "1h"), in milliseconds. */
export function parseRequestTimeout(value: string | undefined): number {
  if (value === undefined || value === "" || value === "0") return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (match === null) {
    throw new CliError(
      `invalid --request-timeout "${value}": use a duration such as 30s, 2m or 1h (0 for none)`,
    );
  }
  const amount = Number(match[1]);
  const unit = match[2] ?? "s";
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
  return amount * scale;
}

export class CommandContext {
  readonly io: CliIo;
  readonly flags: GlobalFlags;
  #connection: Connection | undefined;
  #client: CliClient | undefined;

  constructor(io: CliIo, flags: GlobalFlags) {
    this.io = io;
    this.flags = flags;
  }

  /** The config file path this invocation reads and writes. */
  configPath(): string {
    return this.flags.tugconfig ?? configPath(this.io.env);
  }

  /** Server, token and namespace after flags override the config file. */
  async connection(): Promise<Connection> {
    if (this.#connection === undefined) {
      const config = await loadConfig(this.configPath());
      this.#connection = resolveConnection(config, {
        server: this.flags.server,
        token: this.flags.token,
        namespace: this.flags.namespace,
        context: this.flags.context,
      });
    }
    return this.#connection;
  }

  /** The server address for error messages, before or after resolving. */
  serverForMessages(): string {
    return this.#connection?.server ?? this.flags.server ?? "127.0.0.1:6443";
  }

  async client(): Promise<CliClient> {
    if (this.#client === undefined) {
      const connection = await this.connection();
      this.#client = this.io.connect(connection, parseRequestTimeout(this.flags.requestTimeout));
    }
    return this.#client;
  }

  /**
   * The namespace a request about `kind` goes to: "" for cluster-scoped kinds and for -A,
   * else -n or the context's namespace.
   */
  async namespaceFor(kind: KindInfo, allNamespaces = false): Promise<string> {
    if (!kind.namespaced || allNamespaces) return "";
    return (await this.connection()).namespace;
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  /** Closes the client if one was opened. */
  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}
