// The agent API on :10250 (HTTP), which the API server proxies to for `tug logs` and
// `tug exec` (the kubelet's server: /containerLogs, /exec, /healthz, /metrics). The protocol
// is documented in docs/agent.md.

import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Pod } from "@tug/api";
import { type CriClient, cri, EXEC_PROTOCOL } from "@tug/cri-docker";
import { errorText, type Logger } from "../log.js";
import { type RuntimeContainer, readRuntimePod } from "../runtime/runtime-pod.js";
import { CriLogParser, formatLine, type LogLine, readFrom } from "./cri-log-reader.js";

/** How often a followed log is polled for new lines. */
const FOLLOW_POLL_MS = 200;
/** How often a follower checks whether the container is still running. */
const FOLLOW_STATE_CHECK_MS = 1_000;

export interface AgentServerOptions {
  node: string;
  runtime: CriClient;
  /** The pod named namespace/name bound to this node, from the informer cache. */
  findPod(namespace: string, name: string): Pod | undefined;
  /** Prometheus text of the agent's metrics. */
  metrics(): string;
  /** Whether the agent is ready (informer synced, node registered). */
  ready(): boolean;
  log: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function flag(v: string | null): boolean {
  return v === "true" || v === "1";
}

export class AgentServer {
  private readonly http: Server;
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly o: AgentServerOptions) {
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
    this.http.on("upgrade", (req, socket, head) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      this.upgrade(req, socket, head).catch((e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        socket.end(
          `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Error"}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${errorText(e)}\n`,
        );
      });
    });
    this.http.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private fail(res: ServerResponse, e: unknown): void {
    const status = e instanceof HttpError ? e.status : 500;
    if (!res.headersSent) {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${errorText(e)}\n`);
    } else {
      res.end();
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://agent");
    const parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    if (url.pathname === "/readyz") {
      const ok = this.o.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok" : "not ready");
      return;
    }
    if (url.pathname === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(this.o.metrics());
      return;
    }
    if (parts[0] === "containerLogs" && parts.length === 4 && req.method === "GET") {
      await this.containerLogs(
        parts[1] as string,
        parts[2] as string,
        parts[3] as string,
        url.searchParams,
        res,
      );
      return;
    }
    if (parts[0] === "exec") {
      throw new HttpError(426, `exec needs "Connection: Upgrade" and "Upgrade: ${EXEC_PROTOCOL}"`);
    }
    throw new HttpError(404, `no route ${req.method} ${url.pathname}; see docs/agent.md`);
  }

  /** The runtime containers of `container` in pod namespace/name, newest first. */
  private async containersOf(
    namespace: string,
    name: string,
    container: string,
  ): Promise<{ pod: Pod; list: RuntimeContainer[] }> {
    const pod = this.o.findPod(namespace, name);
    if (pod === undefined)
      throw new HttpError(404, `pods "${name}" not found on node ${this.o.node}`);
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    if (!spec.some((c) => c.name === container)) {
      throw new HttpError(
        400,
        `container ${container} is not valid for pod ${name}; choose one of: [${spec.map((c) => c.name).join(" ")}]`,
      );
    }
    const rp = await readRuntimePod(this.o.runtime, this.o.node, {
      uid: pod.metadata?.uid ?? "",
      name,
      namespace,
    });
    return { pod, list: rp.containers.filter((c) => c.name === container) };
  }

  private async containerLogs(
    namespace: string,
    name: string,
    container: string,
    q: URLSearchParams,
    res: ServerResponse,
  ): Promise<void> {
    const follow = flag(q.get("follow"));
    const previous = flag(q.get("previous"));
    const timestamps = flag(q.get("timestamps"));
    const tailText = q.get("tailLines");
    const tail = tailText === null ? -1 : Number.parseInt(tailText, 10);
    if (tailText !== null && (!Number.isFinite(tail) || tail < 0)) {
      throw new HttpError(400, `tailLines must be a non-negative integer, got "${tailText}"`);
    }
    const sinceText = q.get("sinceSeconds");
    const sinceMs = sinceText === null ? 0 : Date.now() - Number.parseInt(sinceText, 10) * 1000;
    const { pod, list } = await this.containersOf(namespace, name, container);
    // --previous is the container the status's lastState names (the kubelet's rule: during
    // CrashLoopBackOff that is the run that just failed), else the one before the newest.
    const statuses = [
      ...(pod.status?.containerStatuses ?? []),
      ...(pod.status?.initContainerStatuses ?? []),
    ];
    const lastId = statuses
      .find((s) => s.name === container)
      ?.lastState?.terminated?.containerId.replace(/^[a-z]+:\/\//, "");
    const target = previous ? (list.find((x) => x.id === lastId) ?? list[1]) : list[0];
    if (target === undefined) {
      throw new HttpError(
        400,
        previous
          ? `previous terminated container "${container}" in pod "${name}" not found`
          : `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
      );
    }
    const keep = (l: LogLine) => sinceMs === 0 || Date.parse(l.time) >= sinceMs;
    const parser = new CriLogParser();
    const first = readFrom(target.logPath, 0);
    let lines = parser.push(first.text).filter(keep);
    if (tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    res.writeHead(200, {
      "content-type": "text/plain; charset=utf-8",
      "transfer-encoding": "chunked",
    });
    res.write(lines.map((l) => formatLine(l, timestamps)).join(""));
    if (!follow || previous) {
      res.end();
      return;
    }
    let offset = first.offset;
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    let lastCheck = 0;
    let running = target.state === "running" || target.state === "created";
    while (!closed) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      const next = readFrom(target.logPath, offset);
      offset = next.offset;
      const out = parser.push(next.text).filter(keep);
      if (out.length > 0) res.write(out.map((l) => formatLine(l, timestamps)).join(""));
      if (!running && next.text === "") break;
      if (Date.now() - lastCheck >= FOLLOW_STATE_CHECK_MS) {
        lastCheck = Date.now();
        const st = await this.o.runtime.runtime
          .containerStatus({ containerId: target.id })
          .catch(() => undefined);
        running =
          st?.status?.state === cri.ContainerState.CONTAINER_RUNNING ||
          st?.status?.state === cri.ContainerState.CONTAINER_CREATED;
      }
    }
    res.end();
  }

  /** /exec/<ns>/<pod>/<container>?command=..&stdin=&stdout=&stderr=&tty= over Upgrade: tug-exec.v1. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://agent");
    const parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    if (parts[0] !== "exec" || parts.length !== 4)
      throw new HttpError(404, `no route ${url.pathname}; see docs/agent.md`);
    if ((req.headers.upgrade ?? "").toLowerCase() !== EXEC_PROTOCOL) {
      throw new HttpError(400, `use Upgrade: ${EXEC_PROTOCOL}`);
    }
    const q = url.searchParams;
    const cmd = q.getAll("command");
    if (cmd.length === 0)
      throw new HttpError(
        400,
        "command is required: give it as ?command=sh&command=-c&command=...",
      );
    const tty = flag(q.get("tty"));
    const stdin = flag(q.get("stdin"));
    const stdout = q.get("stdout") === null ? true : flag(q.get("stdout"));
    const stderr = tty ? false : q.get("stderr") === null ? true : flag(q.get("stderr"));
    const [namespace, name, container] = parts.slice(1) as [string, string, string];
    const { list } = await this.containersOf(namespace, name, container);
    const latest = list[0];
    if (latest?.state !== "running") {
      throw new HttpError(
        400,
        `container ${container} is not running in pod ${name}; exec needs a running container`,
      );
    }
    const { url: streamUrl } = await this.o.runtime.runtime.exec({
      containerId: latest.id,
      cmd,
      tty,
      stdin,
      stdout,
      stderr,
    });
    const upstream = await new Promise<{ socket: Duplex; head: Buffer }>((resolve, reject) => {
      const r = request(streamUrl, {
        method: "GET",
        headers: { connection: "Upgrade", upgrade: EXEC_PROTOCOL },
      });
      r.on("upgrade", (_res, s, h) => resolve({ socket: s, head: h }));
      r.on("response", (res) =>
        reject(new HttpError(502, `runtime refused the exec stream: HTTP ${res.statusCode}`)),
      );
      r.on("error", reject);
      r.end();
    });
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${EXEC_PROTOCOL}\r\n\r\n`,
    );
    if (upstream.head.length > 0) socket.write(upstream.head);
    if (head.length > 0) upstream.socket.write(head);
    socket.pipe(upstream.socket);
    upstream.socket.pipe(socket);
    socket.on("close", () => upstream.socket.destroy());
    upstream.socket.on("close", () => socket.end());
    socket.on("error", () => upstream.socket.destroy());
    upstream.socket.on("error", () => socket.destroy());
  }
}
