// A DNS server on UDP and TCP (RFC 1035 4.2): each query decoded, answered by a handler and
// encoded back. UDP answers larger than 512 bytes are sent truncated (TC set, answers dropped)
// so the client retries over TCP; TCP messages carry a two-byte length prefix (4.2.2).

import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import {
  type DnsMessage,
  decodeDnsMessage,
  encodeDnsMessage,
  MAX_UDP_SIZE,
  RCODE,
} from "./dns-message.js";

/** An idle TCP client is closed after this long (RFC 7766 suggests seconds; CoreDNS uses 10 s). */
export const TCP_IDLE_TIMEOUT_MS = 10_000;
/** The port DNS clients use. */
export const DNS_PORT = 53;

export type DnsHandler = (query: DnsMessage) => DnsMessage;

export interface DnsServerOptions {
  handler: DnsHandler;
  /** Listen address; the node's bridge gateway IP or 127.0.0.1 in tests. */
  address: string;
  /** 0 picks a free port, the same for UDP and TCP. Default 53. */
  port?: number;
  onError?: (e: unknown, what: string) => void;
}

/** FORMERR for a query whose header could be read; undefined when not even that. */
function formatError(buf: Uint8Array): Uint8Array | undefined {
  if (buf.length < 12) return undefined;
  const out = new Uint8Array(12);
  out[0] = buf[0] ?? 0;
  out[1] = buf[1] ?? 0;
  out[2] = 0x80 | ((buf[2] ?? 0) & 0x79); // QR, keep opcode and RD
  out[3] = RCODE.FORMERR;
  return out;
}

export class DnsServer {
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private readonly clients = new Set<TcpSocket>();
  private boundPort = 0;

  constructor(private readonly o: DnsServerOptions) {}

  /** The bound port (after listen). */
  get port(): number {
    return this.boundPort;
  }

  /** Answers one raw query; exposed for tests. `maxSize` truncates (UDP). */
  respond(buf: Uint8Array, maxSize = Number.POSITIVE_INFINITY): Uint8Array | undefined {
    let query: DnsMessage;
    try {
      query = decodeDnsMessage(buf);
    } catch {
      return formatError(buf);
    }
    if (query.response) return undefined; // never answer answers
    const reply = this.o.handler(query);
    const wire = encodeDnsMessage(reply);
    if (wire.length <= maxSize) return wire;
    return encodeDnsMessage({
      ...reply,
      truncated: true,
      answers: [],
      authorities: [],
      additionals: [],
    });
  }

  /** Binds UDP then TCP on the same port. */
  async listen(): Promise<number> {
    const requested = this.o.port ?? DNS_PORT;
    // With port 0 the UDP port may be taken on TCP: try a few free ports.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(requested);
      const port = udp.address().port;
      try {
        this.tcp = await this.bindTcp(port);
        this.udp = udp;
        this.boundPort = port;
        return port;
      } catch (e) {
        udp.close();
        if (requested !== 0 || attempt >= 5) throw e;
      }
    }
  }

  private bindUdp(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const udp = createSocket(this.o.address.includes(":") ? "udp6" : "udp4");
      udp.once("error", reject);
      udp.bind(port, this.o.address, () => {
        udp.off("error", reject);
        udp.on("error", (e) => this.o.onError?.(e, "dns udp socket"));
        udp.on("message", (msg, rinfo) => {
          const reply = this.respond(msg, MAX_UDP_SIZE);
          if (reply !== undefined) udp.send(reply, rinfo.port, rinfo.address);
        });
        resolve(udp);
      });
    });
  }

  private bindTcp(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.serveTcp(sock));
      server.once("error", reject);
      server.listen(port, this.o.address, () => {
        server.off("error", reject);
        server.on("error", (e) => this.o.onError?.(e, "dns tcp server"));
        resolve(server);
      });
    });
  }

  private serveTcp(sock: TcpSocket): void {
    this.clients.add(sock);
    sock.setTimeout(TCP_IDLE_TIMEOUT_MS, () => sock.destroy());
    sock.on("close", () => this.clients.delete(sock));
    sock.on("error", () => sock.destroy());
    let pending = Buffer.alloc(0);
    sock.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const msg = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        const reply = this.respond(msg);
        if (reply === undefined) continue;
        const frame = Buffer.alloc(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        frame.set(reply, 2);
        sock.write(frame);
      }
    });
  }

  /** Stops listening and closes TCP clients. */
  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }
}
