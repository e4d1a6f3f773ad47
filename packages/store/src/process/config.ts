// tug-store's validated configuration. validateSettings turns the raw settings of ./flags.ts
// into a StoreConfig, or throws one ConfigError listing every problem, each naming the flag
// (and the environment variable or config-file key if that is where the value came from) and
// saying how to fix it. Nothing is started before this passes.

import { isIP } from "node:net";
import { resolve } from "node:path";
import { LOG_LEVELS, type LogLevel } from "@tug/daemon";
import { computeClusterId, computeMemberId } from "../server/ids.js";
import { ConfigError, describeSetting, type RawSetting, type RawSettings } from "./flags.js";

export { LOG_LEVELS, type LogLevel } from "@tug/daemon";

/** etcd's ceiling on --election-timeout (embed.Config.Validate). */
export const MAX_ELECTION_TIMEOUT_MS = 50_000;
/** etcd's rule: an election timeout under 5 heartbeats makes spurious elections likely. */
export const MIN_ELECTION_HEARTBEATS = 5;

/** A URL to listen on: http://host:port, host an IP address or localhost. */
export interface ListenUrl {
  /** Normalized: scheme://host:port, no trailing slash. */
  readonly url: string;
  /** As node:net and node:http take it (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

export interface InitialMember {
  readonly name: string;
  /** Normalized and sorted. */
  readonly peerUrls: readonly string[];
  /** By etcd's rule from the peer URLs and the token (../server/ids.ts). */
  readonly id: number;
}

export interface StoreConfig {
  readonly name: string;
  /** Absolute. */
  readonly dataDir: string;
  readonly listenClientUrls: readonly ListenUrl[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly ListenUrl[];
  readonly initialAdvertisePeerUrls: readonly string[];
  /** Every member at bootstrap, this one included, in --initial-cluster order. */
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterState: "new" | "existing";
  readonly initialClusterToken: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** Raft ticks are heartbeat intervals: heartbeat is 1 tick, election is this many. */
  readonly electionTicks: number;
  readonly snapshotCount: number;
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  readonly listenMetricsUrls: readonly ListenUrl[];
  readonly logLevel: LogLevel;
  /** This member's id as bootstrapped from --initial-cluster (for state "new"). */
  readonly memberId: number;
  /** The cluster id --initial-cluster gives (for state "new"). */
  readonly clusterId: number;
}

export interface ValidateOptions {
  /** For messages about config-file values. */
  readonly configFile?: string;
  /** Resolves a relative --data-dir. Default: process.cwd(). */
  readonly cwd?: string;
}

/** Validates `settings`; throws ConfigError with every problem found. */
export function validateSettings(
  settings: RawSettings,
  options: ValidateOptions = {},
): StoreConfig {
  const problems: string[] = [];
  const raw = (flag: string): RawSetting | undefined => settings.get(flag);
  const who = (flag: string): string => describeSetting(flag, raw(flag), options.configFile);
  const text = (flag: string): string | undefined => {
    const v = raw(flag)?.value.trim();
    return v === undefined || v === "" ? undefined : v;
  };

  const int = (flag: string, min: number, unit = ""): number | undefined => {
    const v = text(flag);
    if (v === undefined) {
      problems.push(`${who(flag)} is empty; give a whole number${unit}`);
      return undefined;
    }
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      problems.push(`${who(flag)} ${JSON.stringify(v)} is not a whole number${unit}`);
      return undefined;
    }
    const n = Number(v);
    if (n < min) {
      problems.push(`${who(flag)} ${n} must be at least ${min}${unit}`);
      return undefined;
    }
    return n;
  };

  // --- identity -------------------------------------------------------------------------
  const name = text("name") ?? "";
  if (name === "")
    problems.push(`${who("name")} is empty; give this member a name, e.g. --name=infra1`);
  else if (/[=,\s]/.test(name)) {
    problems.push(
      `${who("name")} ${JSON.stringify(name)} may not contain "=", "," or spaces (they separate --initial-cluster entries); pick another name`,
    );
  }
  const dataDir = resolve(
    options.cwd ?? process.cwd(),
    text("data-dir") ?? `${name || "default"}.tug-store`,
  );

  // --- URLs -----------------------------------------------------------------------------
  const listenClientUrls = listenUrls("listen-client-urls", 2379);
  const listenPeerUrls = listenUrls("listen-peer-urls", 2380);
  if (listenPeerUrls.length > 1) {
    problems.push(
      `${who("listen-peer-urls")} lists ${listenPeerUrls.length} URLs; tug-store listens for peers on one (use http://0.0.0.0:<port> for every interface)`,
    );
  }
  const listenMetricsUrls = listenUrls("listen-metrics-urls", 2381);
  const advertiseClientUrls = advertiseUrls("advertise-client-urls", 2379);
  const initialAdvertisePeerUrls = advertiseUrls("initial-advertise-peer-urls", 2380);
  checkPortClashes();

  // --- cluster ----------------------------------------------------------------------------
  const state = text("initial-cluster-state") ?? "";
  if (state !== "new" && state !== "existing") {
    problems.push(
      `${who("initial-cluster-state")} ${JSON.stringify(state)} must be "new" (bootstrap a cluster) or "existing" (join one after etcdctl member add)`,
    );
  }
  const token = text("initial-cluster-token") ?? "";
  if (token === "") {
    problems.push(
      `${who("initial-cluster-token")} is empty; give the same token to every member of the cluster`,
    );
  }
  const initialCluster = parseInitialCluster();

  // --- timing -----------------------------------------------------------------------------
  const heartbeat = int("heartbeat-interval", 1, " of milliseconds");
  const election = int("election-timeout", 1, " of milliseconds");
  if (heartbeat !== undefined && election !== undefined) {
    if (election < MIN_ELECTION_HEARTBEATS * heartbeat) {
      problems.push(
        `${who("election-timeout")} ${election} must be at least ${MIN_ELECTION_HEARTBEATS}x ${who("heartbeat-interval")} ${heartbeat}: ` +
          `raise --election-timeout to ${MIN_ELECTION_HEARTBEATS * heartbeat} or more, or lower --heartbeat-interval`,
      );
    } else if (election % heartbeat !== 0) {
      const lower = election - (election % heartbeat);
      problems.push(
        `${who("election-timeout")} ${election} is not a multiple of ${who("heartbeat-interval")} ${heartbeat} ` +
          `(Raft counts the election timeout in heartbeats): use ${lower} or ${lower + heartbeat}`,
      );
    } else if (election > MAX_ELECTION_TIMEOUT_MS) {
      problems.push(
        `${who("election-timeout")} ${election} is above the maximum ${MAX_ELECTION_TIMEOUT_MS} ms; lower it`,
      );
    }
  }
  const snapshotCount = int("snapshot-count", 1);
  const maxRequestBytes = int("max-request-bytes", 1, " of bytes");
  const maxTxnOps = int("max-txn-ops", 1);

  const logLevel = text("log-level") ?? "";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(
      `${who("log-level")} ${JSON.stringify(logLevel)} must be one of ${LOG_LEVELS.join(", ")}`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const self = initialCluster.find((m) => m.name === name) as InitialMember;
  const hb = heartbeat as number;
  return {
    name,
    dataDir,
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state as "new" | "existing",
    initialClusterToken: token,
    heartbeatIntervalMs: hb,
    electionTimeoutMs: election as number,
    electionTicks: Math.floor((election as number) / hb),
    snapshotCount: snapshotCount as number,
    maxRequestBytes: maxRequestBytes as number,
    maxTxnOps: maxTxnOps as number,
    listenMetricsUrls,
    logLevel: logLevel as LogLevel,
    memberId: self.id,
    clusterId: computeClusterId(initialCluster.map((m) => m.id)),
  };

  // --- helpers (hoisted) ----------------------------------------------------------------

  /** Parses one URL of `flag`; undefined (with a problem recorded) if it is unusable. */
  function parseUrl(
    flag: string,
    s: string,
    examplePort: number,
    label = who(flag),
  ): URL | undefined {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      problems.push(
        `${label} ${JSON.stringify(s)} is not a URL; write it as http://host:port, e.g. http://127.0.0.1:${examplePort}`,
      );
      return undefined;
    }
    if (u.protocol === "https:" || u.protocol === "unixs:") {
      problems.push(`${label} ${s}: TLS is not supported yet; use http://`);
      return undefined;
    }
    if (u.protocol !== "http:") {
      problems.push(
        `${label} ${s}: the scheme must be http://, e.g. http://127.0.0.1:${examplePort}`,
      );
      return undefined;
    }
    if (u.port === "") {
      problems.push(
        `${label} ${s} has no port; give it explicitly, e.g. http://${u.hostname}:${examplePort}`,
      );
      return undefined;
    }
    if (u.port === "0") {
      problems.push(
        `${label} ${s}: port 0 is not allowed (the URL is advertised to others); give a port`,
      );
      return undefined;
    }
    if (
      (u.pathname !== "/" && u.pathname !== "") ||
      u.search !== "" ||
      u.hash !== "" ||
      u.username !== ""
    ) {
      problems.push(
        `${label} ${s} must be just http://host:port; remove the path, query or credentials`,
      );
      return undefined;
    }
    return u;
  }

  function urlList(flag: string): string[] {
    return (text(flag) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  function listenUrls(flag: string, examplePort: number): ListenUrl[] {
    const list = urlList(flag);
    if (list.length === 0) {
      problems.push(
        `${who(flag)} is empty; give at least one URL, e.g. http://127.0.0.1:${examplePort}`,
      );
      return [];
    }
    const out: ListenUrl[] = [];
    for (const s of list) {
      const u = parseUrl(flag, s, examplePort);
      if (u === undefined) continue;
      const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
      if (isIP(host) === 0 && host !== "localhost") {
        problems.push(
          `${who(flag)} ${s}: a listen URL needs an IP address (or localhost) to bind to, not a host name; ` +
            `use http://0.0.0.0:${u.port} to listen on every interface`,
        );
        continue;
      }
      out.push({ url: `http://${u.host}`, host, port: Number(u.port) });
    }
    return out;
  }

  function advertiseUrls(flag: string, examplePort: number): string[] {
    const list = urlList(flag);
    if (list.length === 0) {
      problems.push(
        `${who(flag)} is empty; give the URL others reach this member at, e.g. http://10.0.0.1:${examplePort}`,
      );
      return [];
    }
    const out: string[] = [];
    for (const s of list) {
      const u = parseUrl(flag, s, examplePort);
      if (u === undefined) continue;
      if (u.hostname === "0.0.0.0" || u.hostname === "[::]") {
        problems.push(
          `${who(flag)} ${s}: ${u.hostname} is where to listen, not an address others can reach; advertise this host's IP or name`,
        );
        continue;
      }
      out.push(`http://${u.host}`);
    }
    return out;
  }

  function checkPortClashes(): void {
    const seen = new Map<string, string>();
    const groups: [string, readonly ListenUrl[]][] = [
      ["listen-client-urls", listenClientUrls],
      ["listen-peer-urls", listenPeerUrls],
      ["listen-metrics-urls", listenMetricsUrls],
    ];
    for (const [flag, urls] of groups) {
      for (const u of urls) {
        const wildcard = u.host === "0.0.0.0" || u.host === "::";
        for (const [key, other] of seen) {
          const [h, p] = [
            key.slice(0, key.lastIndexOf(":")),
            Number(key.slice(key.lastIndexOf(":") + 1)),
          ];
          const otherWildcard = h === "0.0.0.0" || h === "::";
          if (p === u.port && (h === u.host || wildcard || otherWildcard)) {
            problems.push(
              other === flag
                ? `${who(flag)} lists port ${u.port} twice; give each URL its own port`
                : `${who(flag)} ${u.url} uses the same port as ${who(other)}; give each its own port`,
            );
          }
        }
        seen.set(`${u.host}:${u.port}`, flag);
      }
    }
  }

  function parseInitialCluster(): InitialMember[] {
    const flag = "initial-cluster";
    const given = text(flag);
    const entries =
      given ?? initialAdvertisePeerUrls.map((u) => `${name || "default"}=${u}`).join(",");
    const problemsBefore = problems.length;
    const byName = new Map<string, string[]>();
    for (const part of entries
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")) {
      const eq = part.indexOf("=");
      if (eq <= 0 || eq === part.length - 1) {
        problems.push(
          `${who(flag)} entry ${JSON.stringify(part)} must be name=http://host:port, e.g. infra1=http://10.0.0.1:2380`,
        );
        continue;
      }
      const memberName = part.slice(0, eq);
      const u = parseUrl(flag, part.slice(eq + 1), 2380, `${who(flag)} entry ${memberName}=`);
      if (u === undefined) continue;
      const urls = byName.get(memberName) ?? [];
      urls.push(`http://${u.host}`);
      byName.set(memberName, urls);
    }
    if (byName.size === 0) {
      if (given !== undefined && problems.length === problemsBefore)
        problems.push(`${who(flag)} names no member; list every member as name=peer-url`);
      return [];
    }

    // A URL may belong to one member only: two members at one address would be one process.
    const owner = new Map<string, string>();
    for (const [memberName, urls] of byName) {
      for (const u of urls) {
        const prev = owner.get(u);
        if (prev !== undefined && prev !== memberName) {
          problems.push(
            `${who(flag)} gives ${prev} and ${memberName} the same peer URL ${u}; each member needs its own`,
          );
        }
        owner.set(u, memberName);
      }
    }

    const members: InitialMember[] = [...byName].map(([memberName, urls]) => {
      const peerUrls = [...new Set(urls)].sort();
      return { name: memberName, peerUrls, id: computeMemberId(peerUrls, token) };
    });

    const ids = new Map<number, string>();
    for (const m of members) {
      const clash = ids.get(m.id);
      if (clash !== undefined) {
        problems.push(
          `${who(flag)}: members ${clash} and ${m.name} get the same member id ${m.id.toString(16)}; give them different peer URLs`,
        );
      }
      ids.set(m.id, m.name);
    }

    const self = members.find((m) => m.name === name);
    if (name !== "" && self === undefined) {
      problems.push(
        `${who(flag)} has no member named ${JSON.stringify(name)} (--name); add ${name}=<its peer URL> to it, or fix --name`,
      );
    } else if (self !== undefined && initialAdvertisePeerUrls.length > 0) {
      const advertised = [...new Set(initialAdvertisePeerUrls)].sort();
      if (advertised.join(",") !== self.peerUrls.join(",")) {
        problems.push(
          `${who(flag)} gives ${name} the peer URLs ${self.peerUrls.join(",")} but ${who("initial-advertise-peer-urls")} ` +
            `is ${advertised.join(",")}; they must be the same`,
        );
      }
    }
    return members;
  }
}
