// A daemon's small HTTP side (DESIGN.md: "every daemon serves /healthz, /readyz and Prometheus
// /metrics"): fixed GET routes on one or more addresses. Every route answers GET and HEAD
// (HEAD without a body); any other method is 405 with an Allow header, an unknown path 404
// naming the routes, and a route that throws 500 with the error's message. A route's answer
// carries its Content-Length, so a probe reads it whole on a kept-alive connection.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** What a route answers. */
export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface HttpRoute {
  /** The path, and any aliases after it (e.g. ["/healthz", "/livez"]); the 404 names the first. */
  readonly paths: readonly string[];
  readonly answer: () => HttpAnswer | Promise<HttpAnswer>;
}

/** An address to listen on. */
export interface HttpListenAddress {
  /** As node:net takes it (an IPv6 address without brackets). */
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** How errors name this address; default http://host:port. */
  readonly url?: string;
}

export interface HttpEndpointsOptions {
  readonly listen: readonly HttpListenAddress[];
  readonly routes: readonly HttpRoute[];
}

export interface HttpEndpoints {
  /** The URLs served, one per listen address, with the port actually bound. */
  readonly urls: readonly string[];
  /** The port bound for the first listen address. */
  readonly port: number;
  close(): Promise<void>;
}

/** Why a listener could not start: the URL and the OS's reason. */
export class ListenError extends Error {
  constructor(
    readonly url: string,
    override readonly cause: Error,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === "EADDRINUSE"
        ? "the port is in use by another process"
        : code === "EADDRNOTAVAIL"
          ? "this host has no such address"
          : code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : cause.message;
    super(`cannot listen on ${url}: ${why}`);
    this.name = "ListenError";
  }
}

export const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

/** A plain-text answer. */
export function textAnswer(status: number, body: string): HttpAnswer {
  return { status, contentType: TEXT_CONTENT_TYPE, body };
}

/** A JSON answer: `body` serialized with JSON.stringify and a newline. */
export function jsonAnswer(status: number, body: unknown): HttpAnswer {
  return { status, contentType: "application/json", body: `${JSON.stringify(body)}\n` };
}

function send(res: ServerResponse, a: HttpAnswer, extra: Record<string, string> = {}): void {
  res.writeHead(a.status, {
    ...extra,
    "Content-Type": a.contentType,
    "Content-Length": Buffer.byteLength(a.body),
  });
  // Node leaves the body out of a HEAD response by itself; the length stays.
  res.end(a.body);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function handler(routes: readonly HttpRoute[]) {
  const byPath = new Map<string, HttpRoute>();
  for (const r of routes) for (const p of r.paths) byPath.set(p, r);
  const names = routes.map((r) => r.paths[0] as string);
  const hint =
    names.length <= 1
      ? names.join("")
      : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
  const notFound = textAnswer(404, `not found: try ${hint}\n`);
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, textAnswer(405, "method not allowed\n"), { Allow: "GET, HEAD" });
      return;
    }
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const route = byPath.get(q < 0 ? url : url.slice(0, q));
    if (route === undefined) {
      send(res, notFound);
      return;
    }
    const failed = (e: unknown) => send(res, textAnswer(500, `${errorText(e)}\n`));
    try {
      const a = route.answer();
      if (a instanceof Promise) a.then((x) => send(res, x), failed);
      else send(res, a);
    } catch (e) {
      failed(e);
    }
  };
}

function closeServer(s: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

/** Listens on every address; on a failure closes what it opened and throws ListenError. */
export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const servers: Server[] = [];
  const urls: string[] = [];
  const ports: number[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map(closeServer));
  };
  const handle = handler(options.routes);
  try {
    for (const a of options.listen) {
      const server = createServer(handle);
      const bracketed = a.host.includes(":") ? `[${a.host}]` : a.host;
      await new Promise<void>((resolve, reject) => {
        server.once("error", (e) =>
          reject(new ListenError(a.url ?? `http://${bracketed}:${a.port}`, e)),
        );
        server.listen(a.port, a.host, () => resolve());
      });
      servers.push(server);
      const addr = server.address();
      const port = addr !== null && typeof addr === "object" ? addr.port : a.port;
      ports.push(port);
      urls.push(`http://${bracketed}:${port}`);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { urls, port: ports[0] ?? 0, close: closeAll };
}
