// etcdctl 3.4 with endpoints written as URLs (`--endpoints=http://host:port`), as users write
// them. The commands that dial each endpoint on their own (`endpoint status`, `endpoint
// hashkv`, `defrag`, `move-leader`) then send the whole URL as the HTTP/2 :authority, which
// etcd accepts and Node's HTTP/2 server refuses unless tug cuts the scheme off first
// (src/api/authority-scheme.ts).

import http2 from "node:http2";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthorityRewriter,
  authorityWithoutScheme,
  huffmanDecode,
  huffmanEncode,
  withAuthoritySchemesCut,
} from "../../src/api/authority-scheme.js";
import { ctl } from "./etcdctl.js";
import { TARGETS, type Target } from "./targets.js";

interface JsonEndpointStatus {
  Endpoint: string;
  Status: { header: { revision: number }; version: string; dbSize: number };
}

interface JsonEndpointHash {
  Endpoint: string;
  HashKV: { header: { revision: number }; hash: number };
}

for (const [name, start] of TARGETS) {
  describe(`etcdctl 3.4 with http:// endpoints against ${name}`, () => {
    let t: Target;
    let url: string;

    beforeAll(async () => {
      t = await start();
      url = `http://${t.endpoint}`;
    });
    afterAll(async () => {
      await t?.close();
    });

    it("puts and gets", async () => {
      expect(await ctl(url, "put", "url/a", "1")).toBe("OK\n");
      expect(await ctl(url, "get", "url/a")).toBe("url/a\n1\n");
    });

    it("endpoint status", async () => {
      const rows = JSON.parse(
        await ctl(url, "endpoint", "status", "-w", "json"),
      ) as JsonEndpointStatus[];
      expect(rows).toHaveLength(1);
      expect(rows[0]?.Endpoint).toBe(url);
      expect(rows[0]?.Status.version).toMatch(/^3\.4\./);
      expect(rows[0]?.Status.header.revision).toBeGreaterThanOrEqual(2);
    });

    it("endpoint hashkv, the same hash as with a host:port endpoint", async () => {
      const viaUrl = JSON.parse(
        await ctl(url, "endpoint", "hashkv", "-w", "json"),
      ) as JsonEndpointHash[];
      const viaHostPort = JSON.parse(
        await ctl(t.endpoint, "endpoint", "hashkv", "-w", "json"),
      ) as JsonEndpointHash[];
      expect(viaUrl).toHaveLength(1);
      expect(viaUrl[0]?.Endpoint).toBe(url);
      expect(viaUrl[0]?.HashKV.hash).toBe(viaHostPort[0]?.HashKV.hash);
    });

    it("defrag", async () => {
      expect(await ctl(url, "defrag")).toBe(`Finished defragmenting etcd member[${url}]\n`);
    });

    it("endpoint status and hashkv again and again (one connection each, fresh tables)", async () => {
      for (let i = 0; i < 3; i++) {
        expect(await ctl(url, "endpoint", "status")).toContain(url);
        expect(await ctl(url, "endpoint", "hashkv")).toContain(url);
      }
    });
  });
}

describe("authorityWithoutScheme", () => {
  it("cuts scheme and path, leaves host:port alone", () => {
    expect(authorityWithoutScheme("http://127.0.0.1:2379")).toBe("127.0.0.1:2379");
    expect(authorityWithoutScheme("https://[::1]:2379/")).toBe("[::1]:2379");
    expect(authorityWithoutScheme("127.0.0.1:2379")).toBeUndefined();
    expect(authorityWithoutScheme("localhost")).toBeUndefined();
  });
});

describe("HPACK Huffman code", () => {
  it("matches RFC 7541 C.4.1's example and round-trips every octet", () => {
    // RFC 7541 Appendix C.4.1: "www.example.com" Huffman-coded.
    expect(huffmanEncode(Buffer.from("www.example.com")).toString("hex")).toBe(
      "f1e3c2e5f23a6ba0ab90f4ff",
    );
    expect(huffmanDecode(Buffer.from("f1e3c2e5f23a6ba0ab90f4ff", "hex")).toString()).toBe(
      "www.example.com",
    );
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
  });

  it("rejects padding longer than 7 bits and a coded EOS", () => {
    expect(() => huffmanDecode(Buffer.from([0xff]))).toThrow();
    expect(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow();
  });
});

/**
 * A Node HTTP/2 server behind `front` (a socket wrapper or none) and a Node HTTP/2 client on
 * one connection: the :authority each request arrives with, or the error it got.
 */
async function authoritiesSeen(
  front: ((socket: Socket) => import("node:stream").Duplex) | undefined,
  authorities: readonly string[],
): Promise<string[]> {
  const h2 = http2.createServer();
  h2.on("stream", (stream, headers) => {
    stream.respond({ ":status": 200 });
    stream.end(String(headers[":authority"]));
  });
  const tcp = createServer((socket) => h2.emit("connection", front ? front(socket) : socket));
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  const { port } = tcp.address() as AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const seen: string[] = [];
    for (const authority of authorities) {
      seen.push(
        await new Promise<string>((resolve) => {
          const req = client.request({ ":path": "/", ":authority": authority, "x-pad": authority });
          let body = "";
          req.on("data", (d: Buffer) => {
            body += d.toString();
          });
          req.on("error", (e: Error) => resolve(`error: ${e.message}`));
          req.on("end", () => resolve(body));
          req.end();
        }),
      );
    }
    return seen;
  } finally {
    client.destroy();
    h2.close();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
}

describe("AuthorityRewriter between Node's HTTP/2 client and server", () => {
  // nghttp2's encoder puts each new :authority in the dynamic table and refers to it by index
  // on the next request: the rewritten table has to stay in step with the client's.
  const authorities = [
    "http://127.0.0.1:2379",
    "http://127.0.0.1:2379",
    "127.0.0.1:2380",
    "https://example.com:443/path",
    "http://127.0.0.1:2379",
    "127.0.0.1:2380",
    ...Array.from({ length: 200 }, (_, i) => `http://host-${i % 70}.example:${2000 + i}`),
    "http://127.0.0.1:2379",
  ];

  it("without it, the server refuses a URL :authority (why it exists)", async () => {
    const seen = await authoritiesSeen(undefined, ["127.0.0.1:1", "http://127.0.0.1:1"]);
    expect(seen[0]).toBe("127.0.0.1:1");
    expect(seen[1]).toMatch(/PROTOCOL_ERROR/);
  });

  it("with it, every request arrives with the URL's host:port", async () => {
    const seen = await authoritiesSeen(withAuthoritySchemesCut, authorities);
    expect(seen).toEqual(authorities.map((a) => authorityWithoutScheme(a) ?? a));
  });

  it("forwards bytes it does not rewrite unchanged, however they are split", () => {
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    // SETTINGS (empty), then a DATA frame of 5 bytes on stream 1.
    const frames = Buffer.from("000000040000000000" + "0000050001000000016162636465", "hex");
    const input = Buffer.concat([preface, frames]);
    for (let split = 0; split <= input.length; split++) {
      const r = new AuthorityRewriter();
      const out = Buffer.concat([r.push(input.subarray(0, split)), r.push(input.subarray(split))]);
      expect(out).toEqual(input);
    }
  });
});
