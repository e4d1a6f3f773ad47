// The tug-store process: settings → checks → listeners and the member → serve → stop.
//
// Start-up, in this order, so that nothing runs half-configured:
//   1. flags, environment and config file are read and validated (exit 2 on a bad setting);
//   2. the client ports are probed, so that a port in use stops the member before its data
//      directory is touched;
//   3. the peer listener, the metrics/health HTTP server, the member (StoreServer: WAL replay,
//      Raft, transport) and the etcd v3 gRPC server on every client URL start in turn; if one
//      fails, everything started before it is closed again and the process exits 1.
// SIGTERM or SIGINT stops it gracefully (exit 0): /readyz turns 503, the gRPC servers stop
// taking calls and end their streams, the member hands leadership over if it leads, stops Raft
// and the transport and closes the WAL (everything acknowledged was fsynced already), and the
// HTTP server closes last. A second signal exits at once (1).

import { statSync } from "node:fs";
import { createServer } from "node:net";
import {
  ConfigError,
  createLogger,
  type DaemonRunOptions,
  type Logger,
  MetricsRegistry,
  packageVersion,
  settingsOrExit,
} from "@tug/daemon";
import type { RaftEvent } from "@tug/raft";
import { ETCD_API_VERSION } from "../api/local-backend.js";
import { type EtcdGrpcServer, startEtcdGrpcServer } from "../api/server.js";
import { listenPeer, type PeerListener } from "../server/peer-listener.js";
import { StoreServer } from "../server/store-server.js";
import { type ListenUrl, type StoreConfig, validateSettings } from "./config.js";
import { parseCommandLine } from "./flags.js";
import { gcTuning } from "./gc-tuning.js";
import { type HttpEndpoints, ListenError, startHttpEndpoints } from "./http-endpoints.js";
import { registerStoreMetrics } from "./store-metrics.js";

/** Raft events kept for /raft. */
const RECENT_EVENTS = 100;
/** How often the peer round-trip histogram takes a sample (the transport pings every 500 ms). */
const RTT_SAMPLE_INTERVAL_MS = 500;

export type RunOptions = DaemonRunOptions<RunningStore>;

export interface RunningStore {
  readonly config: StoreConfig;
  readonly server: StoreServer;
  readonly metricsUrls: readonly string[];
  /** Stops gracefully; runTugStore then resolves with 0. */
  stop(reason: string): void;
}

/** One entry of /raft's "events": a Raft event, role or leader change, with its time. */
export interface RecordedEvent {
  readonly ts: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Ids in logs and /raft: hex, as etcd and etcdctl print member and cluster ids. */
export function hexId(id: number): string {
  return id.toString(16);
}

/** host:port as @tug/grpc's GrpcServer.listen takes it (an IPv6 address in brackets). */
function grpcTarget(u: ListenUrl): string {
  return `${u.host.includes(":") ? `[${u.host}]` : u.host}:${u.port}`;
}

/** Fails with ListenError if `u` cannot be bound now (it is released again at once). */
async function probePort(u: ListenUrl): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once("error", (e) => reject(new ListenError(u.url, e)));
    s.listen(u.port, u.host, () => s.close(() => resolve()));
  });
}

function checkDataDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) {
      throw new ConfigError([
        `--data-dir ${dir} exists but is not a directory; point --data-dir at a directory`,
      ]);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // created by the member
    throw e;
  }
}

/** A description of a Raft event for the log, and whether it is worth info level. */
function describeRaftEvent(ev: RaftEvent): { msg: string; level: "info" | "warn" | "debug" } {
  switch (ev.type) {
    case "term-changed":
      return { msg: "term changed", level: "info" };
    case "check-quorum-failed":
      return {
        msg: "stepped down: no quorum heard from within an election timeout",
        level: "warn",
      };
    case "snapshot-sent":
      return { msg: "sent a snapshot", level: "info" };
    case "leader-transfer-started":
      return { msg: "leadership transfer started", level: "info" };
    case "leader-transfer-aborted":
      return { msg: "leadership transfer aborted", level: "warn" };
    case "became-pre-candidate":
      // The server logs role changes; a pre-vote round that fails leaves the role unchanged,
      // so log it here.
      return { msg: "pre-vote started", level: "info" };
    default:
      // became-*, leader-changed/lost, snapshot-restored and conf-change-applied are logged
      // by the server, with what it did about them.
      return { msg: `raft: ${ev.type}`, level: "debug" };
  }
}

/** Raft event fields for JSON: member ids as hex (terms and indexes stay numbers). */
function eventFields(ev: RaftEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const idKeys = new Set(["lead", "previousLeader"]);
  if (ev.type === "snapshot-sent" || ev.type.startsWith("leader-transfer")) idKeys.add("to");
  for (const [k, v] of Object.entries(ev)) {
    if (k === "type") continue;
    out[k] = idKeys.has(k) && typeof v === "number" ? hexId(v) : v;
  }
  return out;
}

/**
 * Runs tug-store until it is stopped; resolves with the process exit code: 0 after a graceful
 * stop (or --help/--version), 1 when it could not start or failed, 2 for bad settings.
 */
export async function runTugStore(options: RunOptions): Promise<number> {
  const out = options.stdout ?? ((s: string) => process.stdout.write(s));
  const err = options.stderr ?? ((s: string) => process.stderr.write(s));
  const version = packageVersion(import.meta.url, "@tug/store");

  const started = settingsOrExit(
    "tug-store",
    () => {
      const parsed = parseCommandLine(options.argv, {
        env: options.env ?? process.env,
        version: `tug-store Version: ${version}\netcd API Version: ${ETCD_API_VERSION}`,
      });
      if (parsed.kind === "exit") return parsed;
      const config = validateSettings(parsed.settings, { configFile: parsed.configFile });
      checkDataDir(config.dataDir);
      return { kind: "run", settings: config };
    },
    { stdout: out, stderr: err },
  );
  if ("exitCode" in started) return started.exitCode;
  const config: StoreConfig = started.settings;

  const logger = createLogger({
    level: config.logLevel,
    layout: "nested",
    component: "tug-store",
    write: err,
  });
  const log = logger.child("tug-store");
  log.info("starting", {
    version,
    name: config.name,
    dataDir: config.dataDir,
    listenClientUrls: config.listenClientUrls.map((u) => u.url),
    advertiseClientUrls: config.advertiseClientUrls,
    listenPeerUrls: config.listenPeerUrls.map((u) => u.url),
    initialAdvertisePeerUrls: config.initialAdvertisePeerUrls,
    listenMetricsUrls: config.listenMetricsUrls.map((u) => u.url),
    initialCluster: config.initialCluster.map((m) => `${m.name}=${m.peerUrls.join(",")}`).join(","),
    initialClusterState: config.initialClusterState,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    electionTimeoutMs: config.electionTimeoutMs,
    snapshotCount: config.snapshotCount,
    pid: process.pid,
    v8HeapGrowingPercent: gcTuning()?.heapGrowingPercent ?? "node default",
  });
  return await serve(config, logger, version, options);
}

async function serve(
  config: StoreConfig,
  logger: Logger,
  version: string,
  options: RunOptions,
): Promise<number> {
  const log = logger.child("tug-store");
  const startedAtMs = Date.now();
  const registry = new MetricsRegistry();
  const events: RecordedEvent[] = [];
  const record = (type: string, fields: Record<string, unknown>): void => {
    events.push({ ts: new Date().toISOString(), type, ...fields });
    if (events.length > RECENT_EVENTS) events.shift();
  };

  // Everything started, to close in reverse on failure or stop.
  let peer: PeerListener | undefined;
  let http: HttpEndpoints | undefined;
  let server: StoreServer | undefined;
  const grpcServers: EtcdGrpcServer[] = [];
  let rttTimer: NodeJS.Timeout | undefined;
  let phase: "starting" | "serving" | "stopping" = "starting";
  /** Readiness: has this member applied what was committed when it first saw a leader? */
  let catchUpTarget: number | undefined;
  let caughtUp = false;

  let resolveStop: (code: number) => void = () => {};
  const stopped = new Promise<number>((r) => {
    resolveStop = r;
  });
  let stopRequested = false;
  const requestStop = (reason: string, code: number): void => {
    if (stopRequested) return;
    stopRequested = true;
    log.info("stopping", { reason });
    resolveStop(code);
  };

  const closeAll = async (): Promise<void> => {
    phase = "stopping";
    clearInterval(rttTimer);
    await Promise.all(grpcServers.splice(0).map((g) => g.close().catch(() => {})));
    if (server !== undefined) {
      await server
        .close()
        .catch((e: unknown) => log.error("closing the member failed", { error: e }));
    } else {
      peer?.close();
    }
    await http?.close().catch(() => {});
  };

  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  if (options.handleSignals === true) {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const h = (): void => {
        if (stopRequested) {
          log.warn("second signal: exiting now", { signal: sig });
          process.exit(1);
        }
        requestStop(`received ${sig}`, 0);
      };
      process.on(sig, h);
      signalHandlers.push([sig, h]);
    }
  }

  try {
    for (const u of config.listenClientUrls) await probePort(u);
    const peerUrl = config.listenPeerUrls[0] as ListenUrl;
    try {
      peer = await listenPeer(peerUrl.url);
    } catch (e) {
      throw new ListenError(peerUrl.url, e instanceof Error ? e : new Error(String(e)));
    }

    http = await startHttpEndpoints({
      urls: config.listenMetricsUrls,
      registry,
      health: () => {
        if (server === undefined || phase === "starting") return { ok: false, reason: "starting" };
        if (phase === "stopping") return { ok: false, reason: "stopping" };
        return server.leader !== 0 ? { ok: true } : { ok: false, reason: "RAFT NO LEADER" };
      },
      ready: () => {
        if (server === undefined || phase === "starting") return { ok: false, reason: "starting" };
        if (phase === "stopping") return { ok: false, reason: "stopping" };
        const m = server.metrics();
        if (!m.hasLeader) return { ok: false, reason: "RAFT NO LEADER" };
        if (!caughtUp) {
          catchUpTarget ??= m.proposalsCommitted;
          if (m.proposalsApplied < catchUpTarget) {
            return {
              ok: false,
              reason: `catching up: applied ${m.proposalsApplied} of ${catchUpTarget}`,
            };
          }
          caughtUp = true;
        }
        return { ok: true };
      },
      raft: () => raftDocument(server, events),
      version: () => ({
        etcdserver: ETCD_API_VERSION,
        etcdcluster: ETCD_API_VERSION,
        tugstore: version,
      }),
    });

    const serverLog = logger.child("server");
    server = await StoreServer.start({
      name: config.name,
      dataDir: config.dataDir,
      peer,
      advertisePeerUrls: config.initialAdvertisePeerUrls,
      advertiseClientUrls: config.advertiseClientUrls,
      initialCluster: config.initialCluster.map((m) => ({ name: m.name, peerUrls: m.peerUrls })),
      initialClusterState: config.initialClusterState,
      initialClusterToken: config.initialClusterToken,
      heartbeatMs: config.heartbeatIntervalMs,
      electionMs: config.electionTimeoutMs,
      snapshotCount: config.snapshotCount,
      logger: { log: (level, msg, fields) => serverLog[level](msg, fields) },
    });
    const s = server;
    const raftLog = logger.child("raft");
    s.events.on("raft", (ev) => {
      const { msg, level } = describeRaftEvent(ev);
      const fields = eventFields(ev);
      raftLog[level](msg, fields);
      record(ev.type, fields);
    });
    s.events.on("role-changed", (role, term) => record("role-changed", { role, term }));
    s.events.on("leader-changed", (lead, term) => {
      record("leader-changed", { lead: hexId(lead), term });
      // What the member must apply before it is ready: the commit index it knows on first
      // hearing of a leader (the leader's own, or what the leader has told it so far).
      if (lead !== 0 && catchUpTarget === undefined) catchUpTarget = s.metrics().proposalsCommitted;
    });
    if (s.leader !== 0) catchUpTarget = s.metrics().proposalsCommitted;
    s.events.on("removed", () => requestStop("this member was removed from the cluster", 0));
    s.events.on("fatal", (e) => {
      log.error("the member failed", { error: e });
      requestStop(`fatal: ${e.message}`, 1);
    });

    const metrics = registerStoreMetrics(registry, {
      read: () => s.metrics(),
      memberId: s.memberId,
      name: s.name,
      startedAtMs,
    });
    rttTimer = setInterval(() => metrics.samplePeerRoundTrips(), RTT_SAMPLE_INTERVAL_MS);
    rttTimer.unref();

    for (const u of config.listenClientUrls) {
      try {
        grpcServers.push(
          await startEtcdGrpcServer({
            backend: s,
            listen: grpcTarget(u),
            maxRequestBytes: config.maxRequestBytes,
            maxTxnOps: config.maxTxnOps,
          }),
        );
      } catch (e) {
        throw new ListenError(u.url, e instanceof Error ? e : new Error(String(e)));
      }
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log.error("cannot start", { error: message });
    await closeAll();
    for (const [sig, h] of signalHandlers) process.off(sig, h);
    (options.stderr ?? ((t: string) => process.stderr.write(t)))(`tug-store: ${message}\n`);
    return 1;
  }

  phase = "serving";
  log.info("serving", {
    member: hexId(server.memberId),
    cluster: hexId(server.clusterId),
    clientUrls: config.listenClientUrls.map((u) => u.url),
    metricsUrls: http.urls,
  });
  options.onStarted?.({
    config,
    server,
    metricsUrls: http.urls,
    stop: (reason) => requestStop(reason, 0),
  });

  const code = await stopped;
  await closeAll();
  for (const [sig, h] of signalHandlers) process.off(sig, h);
  log.info("stopped", { exitCode: code });
  return code;
}

/** GET /raft: the Raft core's status, ids in hex, with the transport's view and recent events. */
function raftDocument(server: StoreServer | undefined, events: readonly RecordedEvent[]): unknown {
  if (server === undefined) return { state: "starting", events };
  const st = server.raftStatus();
  const m = server.metrics();
  const progress: Record<string, unknown> = {};
  for (const [id, p] of st.progress) progress[hexId(id)] = { ...p };
  return {
    name: st.name,
    memberId: hexId(st.memberId),
    clusterId: hexId(st.clusterId),
    role: st.role,
    term: st.term,
    vote: hexId(st.vote),
    lead: hexId(st.lead),
    leadTransferee: hexId(st.leadTransferee),
    commit: st.commit,
    applied: st.applied,
    lastIndex: st.lastIndex,
    snapshotIndex: m.snapshotIndex,
    voters: st.config.voters.map(hexId),
    learners: st.config.learners.map(hexId),
    progress,
    peers: m.peers.map((p) => ({ ...p, id: hexId(p.id) })),
    proposalsPending: m.proposalsPending,
    readsPending: m.readsPending,
    events,
  };
}
