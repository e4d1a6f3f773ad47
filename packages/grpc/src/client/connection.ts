// One HTTP/2 session to one target, shared by every call to it: opened on the first call,
// kept alive with PINGs, dropped when it breaks and opened again on a later call after a
// back-off (https://github.com/grpc/grpc/blob/master/doc/connection-backoff.md).

import * as http2 from "node:http2";
import { outsideReads } from "../outside-reads.js";
import { installAsyncResourceBind } from "./async-resource-bind.js";

/**
 * gRPC's connection back-off (connection-backoff.md): INITIAL_BACKOFF 1 s, MULTIPLIER 1.6,
 * JITTER 0.2, MAX_BACKOFF 120 s, the values grpc-js and grpc-go use.
 */
export const INITIAL_RECONNECT_BACKOFF_MS = 1_000;
export const MAX_RECONNECT_BACKOFF_MS = 120_000;
const RECONNECT_BACKOFF_MULTIPLIER = 1.6;
const RECONNECT_BACKOFF_JITTER = 0.2;

/**
 * gRPC's MIN_CONNECT_TIMEOUT (connection-backoff.md): a TCP connect that has not completed in
 * 20 s is given up, so a blackholed address fails its calls instead of holding them.
 */
export const CONNECT_TIMEOUT_MS = 20_000;

/**
 * Keepalive ack timeout when only the interval is set: gRPC's default KEEPALIVE_TIMEOUT
 * (https://github.com/grpc/proposal/blob/master/A8-client-side-keepalive.md), 20 s.
 */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * Receive window of the session and of each stream. nghttp2's default (64 KiB) stalls a watch
 * stream that delivers a large list every round trip; 4 MiB lets a burst of events flow while
 * the reader is busy, and backpressure (pause) still holds at the stream level.
 */
const WINDOW_SIZE = 4 * 1024 * 1024;

export interface ConnectionOptions {
  /**
   * Send an HTTP/2 PING every this many ms (etcd clientv3's DialKeepAliveTime; grpc's
   * GRPC_ARG_KEEPALIVE_TIME_MS). Absent: no keepalive.
   */
  readonly keepaliveTimeMs?: number;
  /**
   * Destroy the session when a PING is not acknowledged within this many ms (etcd clientv3's
   * DialKeepAliveTimeout); its calls fail with UNAVAILABLE.
   */
  readonly keepaliveTimeoutMs?: number;
  /** Ping also while no call is active (grpc's keepalive_permit_without_calls). */
  readonly keepalivePermitWithoutCalls?: boolean;
  readonly initialReconnectBackoffMs?: number;
  readonly maxReconnectBackoffMs?: number;
  readonly connectTimeoutMs?: number;
}

/** A session and what happened to it; a call keeps the one it was started on. */
export interface SessionState {
  readonly session: http2.ClientHttp2Session;
  /** Set once the session was destroyed or failed: the reason its calls ended. */
  error: Error | undefined;
  /** Whether the TCP connection and HTTP/2 preface completed. */
  connected: boolean;
  /** Calls running on this session; it keeps the process alive only while there are some. */
  calls: number;
}

/**
 * The cause of a call's UNAVAILABLE when its request certainly never reached the server's
 * application: no connection (open() during back-off, or a session that never connected), a
 * session that refused new streams, or a stream the server refused (REFUSED_STREAM). gRPC's
 * condition for a transparent retry (gRFC A6); see requestNotSent().
 */
export class RequestNotSentError extends Error {
  override readonly name = "RequestNotSentError";
}

/**
 * The session to one target. Not a pool: HTTP/2 multiplexes every call on one connection, as
 * grpc-js's subchannel does.
 */
export class Connection {
  readonly authority: string;
  private readonly options: ConnectionOptions;
  private current: SessionState | undefined;
  private activeCalls = 0;
  /** Consecutive connects that failed; 0 after a session connected. */
  private failedConnects = 0;
  private retryAt = 0;
  private lastConnectError: Error | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `target`: "host:port" or an http:// URL (its path is ignored). */
  constructor(target: string, options: ConnectionOptions = {}) {
    const hostPort = target.replace(/^http:\/\//, "").replace(/\/.*$/, "");
    if (hostPort === "" || /^[a-z]+:\/\//.test(target.replace(/^http:\/\//, ""))) {
      throw new Error(
        `gRPC target "${target}" is not host:port or an http:// URL; give e.g. "127.0.0.1:2379"`,
      );
    }
    this.authority = hostPort;
    this.options = options;
    // Every session.request() binds an AsyncResource; see async-resource-bind.ts.
    installAsyncResourceBind();
  }

  /**
   * The live session, opened if there is none. Throws RequestNotSentError during the
   * back-off that follows a failed connect, so calls fail fast with UNAVAILABLE as grpc-js's
   * do in TRANSIENT_FAILURE.
   */
  open(): SessionState {
    const cur = this.current;
    if (cur !== undefined) return cur;
    if (this.closed) throw new RequestNotSentError(`connection to ${this.authority} closed`);
    const now = Date.now();
    if (now < this.retryAt) {
      throw new RequestNotSentError(
        `no connection to ${this.authority} (${this.lastConnectError?.message ?? "connect failed"}); next attempt in ${this.retryAt - now} ms`,
      );
    }
    return this.connect();
  }

  private connect(): SessionState {
    const session = http2.connect(`http://${this.authority}`, {
      settings: { enablePush: false, initialWindowSize: WINDOW_SIZE },
    });
    const state: SessionState = { session, error: undefined, connected: false, calls: 0 };
    this.current = state;
    const connectTimer = setTimeout(() => {
      if (!state.connected) {
        session.destroy(
          new Error(
            `connect to ${this.authority} did not complete in ${this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS} ms`,
          ),
        );
      }
    }, this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    connectTimer.unref();
    session.once("connect", () => {
      clearTimeout(connectTimer);
      state.connected = true;
      this.failedConnects = 0;
      this.retryAt = 0;
      // 'connect' is emitted on a later tick: the channel may have been closed (and the
      // session destroyed) since.
      if (session.destroyed || this.current !== state) return;
      session.setLocalWindowSize(WINDOW_SIZE);
      this.startKeepalive(state);
    });
    session.on("error", (e: Error) => {
      state.error ??= e;
    });
    // A GOAWAY lets the streams in flight finish, but no new one may start on this session.
    session.on("goaway", () => this.detach(state));
    session.once("close", () => {
      clearTimeout(connectTimer);
      if (!state.connected) this.connectFailed(state.error);
      state.error ??= new Error(`connection to ${this.authority} closed`);
      this.detach(state);
    });
    // Referenced only while calls run on it (callStarted), so an idle channel never keeps
    // the process alive.
    session.unref();
    return state;
  }

  private connectFailed(error: Error | undefined): void {
    this.lastConnectError = error;
    const initial = this.options.initialReconnectBackoffMs ?? INITIAL_RECONNECT_BACKOFF_MS;
    const max = this.options.maxReconnectBackoffMs ?? MAX_RECONNECT_BACKOFF_MS;
    this.failedConnects++;
    // The first failure of a target that was up goes straight to a new attempt on the next
    // call (grpc's IDLE after a broken connection); back-off applies from the second.
    if (this.failedConnects === 1) {
      this.retryAt = 0;
      return;
    }
    const base = Math.min(initial * RECONNECT_BACKOFF_MULTIPLIER ** (this.failedConnects - 2), max);
    const jitter = 1 + RECONNECT_BACKOFF_JITTER * (2 * Math.random() - 1);
    this.retryAt = Date.now() + Math.round(base * jitter);
  }

  private detach(state: SessionState): void {
    if (this.current !== state) return;
    this.current = undefined;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    // The session closes once its last stream ends.
    if (!state.session.closed && !state.session.destroyed) state.session.close();
  }

  private startKeepalive(state: SessionState): void {
    const interval = this.options.keepaliveTimeMs;
    if (interval === undefined || interval <= 0 || !Number.isFinite(interval)) return;
    const timeoutMs = this.options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    let awaitingAck = false;
    this.keepaliveTimer = setInterval(() => {
      if (awaitingAck || state.session.destroyed) return;
      if (this.activeCalls === 0 && this.options.keepalivePermitWithoutCalls !== true) return;
      awaitingAck = true;
      const timer = setTimeout(() => {
        const err = new Error(
          `keepalive: ${this.authority} did not acknowledge a PING within ${timeoutMs} ms`,
        );
        state.error ??= err;
        state.session.destroy(err);
      }, timeoutMs);
      timer.unref();
      const sent = state.session.ping((err) => {
        awaitingAck = false;
        clearTimeout(timer);
        if (err !== null && !state.session.destroyed) {
          state.error ??= err;
          state.session.destroy(err);
        }
      });
      if (!sent) {
        awaitingAck = false;
        clearTimeout(timer);
      }
    }, interval);
    this.keepaliveTimer.unref();
  }

  /**
   * A call started on `state`'s session: keep the process alive while it runs. Pair with
   * callEnded(). Counted per session, since a call may outlive its session's replacement
   * (after a GOAWAY the old session finishes its calls while new ones go to the next).
   */
  callStarted(state: SessionState): void {
    this.activeCalls++;
    if (state.calls++ === 0 && !state.session.destroyed) state.session.ref();
  }

  callEnded(state: SessionState): void {
    this.activeCalls--;
    if (--state.calls === 0 && !state.session.destroyed) state.session.unref();
  }

  /** Closes the session; calls in flight fail with UNAVAILABLE, later ones at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const cur = this.current;
    if (cur !== undefined) {
      cur.error ??= new Error(`connection to ${this.authority} closed by the client`);
      this.detach(cur);
      outsideReads(() => cur.session.destroy());
    }
  }
}
