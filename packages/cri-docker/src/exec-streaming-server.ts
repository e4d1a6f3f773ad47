// The streaming server behind CRI's Exec: Exec answers with a one-time URL, and the client
// (the agent) connects to it to run the command with live stdin/stdout/stderr. The protocol,
// "tug-exec.v1", is kept small (see docs/cri-docker.md):
//
//   client: GET /exec/<token> HTTP/1.1, Connection: Upgrade, Upgrade: tug-exec.v1
//   server: HTTP/1.1 101 Switching Protocols   (404 for an unknown or expired token)
//   then frames both ways in Docker's multiplexed format, an 8-byte header
//   [stream, 0, 0, 0, size (uint32 big endian)] and `size` bytes:
//     client → server  stream 0: stdin bytes; an empty stream-0 frame closes stdin
//     server → client  stream 1: stdout, stream 2: stderr (a TTY's output is all stream 1),
//                      stream 3: exit, payload JSON {"exitCode": n}; then the server closes.
//
// Tokens are random, single use and expire after TOKEN_TTL_MS, like the kubelet streaming
// server's request cache.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { CriError } from "./cri-error.js";
import { encodeFrame, FrameDecoder, STDIN, STDOUT } from "./docker-stream.js";

/** How long an Exec URL stays valid (the kubelet streaming server's cache TTL, 1 minute). */
export const TOKEN_TTL_MS = 60_000;

/** The Upgrade protocol name of the exec stream. */
export const EXEC_PROTOCOL = "tug-exec.v1";

/** Stream number of the exit frame. */
export const EXIT_STREAM = 3;

export interface ExecSpec {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export class ExecStreamingServer {
  private readonly pending = new Map<string, { spec: ExecSpec; expires: number }>();
  private readonly http: Server;
  private readonly sockets = new Set<Duplex>();
  private baseUrl = "";

  constructor(private readonly docker: Docker) {
    this.http = createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain", upgrade: EXEC_PROTOCOL });
      res.end(`use Upgrade: ${EXEC_PROTOCOL} on the URL Exec returned\n`);
    });
    this.http.on("upgrade", (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** Listens on host:port (port 0: any free port). */
  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        resolve();
      });
    });
    const addr = this.http.address() as AddressInfo;
    const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    this.baseUrl = `http://${shown}:${addr.port}`;
  }

  /** The server's base URL ("http://127.0.0.1:PORT"); "" before listen. */
  get url(): string {
    return this.baseUrl;
  }

  /** Registers an exec and returns its one-time URL. */
  prepare(spec: ExecSpec): string {
    if (this.baseUrl === "") throw new Error("exec streaming server is not listening");
    if (!spec.stdin && !spec.stdout && !spec.stderr) {
      throw CriError.invalidArgument("one of stdin, stdout and stderr must be true");
    }
    if (spec.tty && spec.stderr) {
      throw CriError.invalidArgument("stderr must be false when tty is true (one stream only)");
    }
    if (spec.cmd.length === 0) throw CriError.invalidArgument("cmd is required");
    const now = Date.now();
    for (const [t, p] of this.pending) if (p.expires <= now) this.pending.delete(t);
    const token = randomBytes(16).toString("hex");
    this.pending.set(token, { spec, expires: now + TOKEN_TTL_MS });
    return `${this.baseUrl}/exec/${token}`;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const token = /^\/exec\/([0-9a-f]+)$/.exec(req.url ?? "")?.[1];
    const entry = token === undefined ? undefined : this.pending.get(token);
    if (token !== undefined) this.pending.delete(token);
    if (entry === undefined || entry.expires <= Date.now()) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nunknown or expired exec\n");
      return;
    }
    if ((req.headers.upgrade ?? "").toLowerCase() !== EXEC_PROTOCOL) {
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nuse Upgrade: ${EXEC_PROTOCOL}\n`,
      );
      return;
    }
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${EXEC_PROTOCOL}\r\n\r\n`,
    );
    void this.run(entry.spec, socket, head);
  }

  private async run(spec: ExecSpec, socket: Duplex, head: Buffer): Promise<void> {
    const exit = (code: number, error?: string) => {
      if (socket.destroyed) return;
      const payload = Buffer.from(
        JSON.stringify(error ? { exitCode: code, error } : { exitCode: code }),
      );
      socket.end(encodeFrame(EXIT_STREAM, payload));
    };
    let exec: Docker.Exec;
    let stream: NodeJS.ReadWriteStream;
    try {
      exec = await this.docker.getContainer(spec.containerId).exec({
        Cmd: spec.cmd,
        AttachStdin: spec.stdin,
        AttachStdout: spec.stdout,
        AttachStderr: spec.stderr,
        Tty: spec.tty,
      });
      stream = (await exec.start({
        hijack: true,
        stdin: spec.stdin,
        Tty: spec.tty,
      })) as NodeJS.ReadWriteStream;
    } catch (e) {
      exit(126, e instanceof Error ? e.message : String(e));
      return;
    }
    const toClient = (type: number, payload: Buffer) => {
      if (!socket.destroyed) socket.write(encodeFrame(type, payload));
    };
    const fromDocker = new FrameDecoder(toClient);
    stream.on("data", (chunk: Buffer) =>
      spec.tty ? toClient(STDOUT, chunk) : fromDocker.push(chunk),
    );
    const fromClient = new FrameDecoder((type, payload) => {
      if (type !== STDIN || !spec.stdin) return;
      if (payload.length === 0) stream.end();
      else stream.write(payload);
    });
    if (head.length > 0) fromClient.push(head);
    socket.on("data", (chunk: Buffer) => fromClient.push(chunk));
    socket.on("close", () =>
      (stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.(),
    );
    await new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
    });
    try {
      const info = await exec.inspect();
      exit(info.ExitCode ?? 0);
    } catch (e) {
      exit(126, e instanceof Error ? e.message : String(e));
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.pending.clear();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
