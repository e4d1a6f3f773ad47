// A client of the agent's exec stream (docs/agent.md, "tug-exec.v1"): connects with
// Upgrade: tug-exec.v1, sends stdin as stream-0 frames (an empty one closes stdin), collects
// stdout (1) and stderr (2) frames, and ends with the exit frame (3, JSON {"exitCode": n}).

import { request } from "node:http";
import type { Duplex } from "node:stream";
import { EXEC_PROTOCOL, EXIT_STREAM } from "@tug/cri-docker";

/** Frame header size: [stream, 0, 0, 0, size uint32 big endian]. */
const HEADER = 8;

/** One frame of the exec stream. */
export function encodeExecFrame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into frames. */
export class ExecFrameDecoder {
  private buf = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= HEADER) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < HEADER + size) return;
      const stream = this.buf[0] as number;
      const payload = this.buf.subarray(HEADER, HEADER + size);
      this.buf = this.buf.subarray(HEADER + size);
      this.onFrame(stream, payload);
    }
  }
}

export interface AgentExecOptions {
  host: string;
  port: number;
  namespace: string;
  pod: string;
  container: string;
  command: readonly string[];
  /** Bytes to send as stdin, then close it; stdin is not attached when unset. */
  stdin?: Buffer;
  tty?: boolean;
}

export interface AgentExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  /** Set when the runtime could not run the command at all. */
  error?: string;
}

/** Runs a command through the agent's exec stream and collects its output. */
export function agentExec(o: AgentExecOptions): Promise<AgentExecResult> {
  const q = new URLSearchParams();
  for (const c of o.command) q.append("command", c);
  if (o.stdin !== undefined) q.set("stdin", "true");
  if (o.tty) q.set("tty", "true");
  const path = `/exec/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.pod)}/${encodeURIComponent(o.container)}?${q}`;
  return new Promise((resolve, reject) => {
    const req = request({
      host: o.host,
      port: o.port,
      path,
      method: "POST",
      headers: { connection: "Upgrade", upgrade: EXEC_PROTOCOL },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        reject(
          new Error(
            `exec refused: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().trim()}`,
          ),
        ),
      );
    });
    req.on("error", reject);
    req.on("upgrade", (_res, socket: Duplex, head: Buffer) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let settled = false;
      const decoder = new ExecFrameDecoder((stream, payload) => {
        if (stream === 1) stdout.push(payload);
        else if (stream === 2) stderr.push(payload);
        else if (stream === EXIT_STREAM) {
          settled = true;
          const exit = JSON.parse(payload.toString("utf8")) as { exitCode: number; error?: string };
          resolve({
            exitCode: exit.exitCode,
            stdout: Buffer.concat(stdout),
            stderr: Buffer.concat(stderr),
            ...(exit.error !== undefined && { error: exit.error }),
          });
          socket.end();
        }
      });
      if (head.length > 0) decoder.push(head);
      socket.on("data", (d: Buffer) => decoder.push(d));
      socket.on("close", () => {
        if (!settled) reject(new Error("exec stream closed before the exit frame"));
      });
      socket.on("error", (e) => {
        if (!settled) reject(e);
      });
      if (o.stdin !== undefined) {
        if (o.stdin.length > 0) socket.write(encodeExecFrame(0, o.stdin));
        socket.write(encodeExecFrame(0, Buffer.alloc(0)));
      }
    });
    req.end();
  });
}
