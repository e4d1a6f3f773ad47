import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { create } from "@bufbuild/protobuf";
import { type Endpoints, EndpointsSchema, type Service, ServiceSchema } from "@tug/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerQuery, type ClusterDnsSource } from "../../src/dns/cluster-dns-resolver.js";
import {
  CLASS_IN,
  DnsFormatError,
  type DnsMessage,
  decodeDnsMessage,
  encodeDnsMessage,
  RCODE,
  RR_TYPE,
} from "../../src/dns/dns-message.js";
import { DnsServer } from "../../src/dns/dns-server.js";

function query(name: string, type: number, id = 0x1234): DnsMessage {
  return {
    id,
    response: false,
    opcode: 0,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    rcode: 0,
    questions: [{ name, type, class: CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

const services: Service[] = [
  create(ServiceSchema, {
    metadata: { name: "web", namespace: "default" },
    spec: { clusterIp: "10.96.0.20", ports: [{ name: "http", protocol: "TCP", port: 80 }] },
  }),
  create(ServiceSchema, {
    metadata: { name: "db", namespace: "prod" },
    spec: { clusterIp: "None", ports: [{ name: "pg", protocol: "TCP", port: 5432 }] },
  }),
  create(ServiceSchema, {
    metadata: { name: "ext", namespace: "default" },
    spec: { type: "ExternalName", externalName: "example.org" },
  }),
];
const endpoints: Endpoints[] = [
  create(EndpointsSchema, {
    metadata: { name: "db", namespace: "prod" },
    subsets: [
      {
        addresses: [{ ip: "10.244.1.5", hostname: "db-0" }, { ip: "10.244.2.6" }],
        notReadyAddresses: [{ ip: "10.244.2.9" }],
        ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
      },
    ],
  }),
];
const source: ClusterDnsSource = {
  service: (ns, name) =>
    services.find((s) => s.metadata?.namespace === ns && s.metadata.name === name),
  endpoints: (ns, name) =>
    endpoints.find((e) => e.metadata?.namespace === ns && e.metadata.name === name),
};

describe("DNS wire format (RFC 1035)", () => {
  it("encodes a query byte for byte", () => {
    const wire = encodeDnsMessage(query("a.bc", RR_TYPE.A, 0xabcd));
    expect(Buffer.from(wire).toString("hex")).toBe(
      "abcd01000001000000000000" + "0161" + "026263" + "00" + "0001" + "0001",
    );
  });

  it("round-trips every record kind", () => {
    const m: DnsMessage = {
      ...query("web.default.svc.cluster.local", RR_TYPE.ANY),
      response: true,
      authoritative: true,
      rcode: RCODE.NXDOMAIN,
      answers: [
        {
          name: "a.x",
          type: RR_TYPE.A,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: "a", address: "10.0.0.1" },
        },
        {
          name: "b.x",
          type: RR_TYPE.AAAA,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: "aaaa", address: "fd00:0:0:0:0:0:0:1" },
        },
        {
          name: "c.x",
          type: RR_TYPE.CNAME,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: "name", target: "d.x" },
        },
        {
          name: "_p._tcp.x",
          type: RR_TYPE.SRV,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: "srv", priority: 0, weight: 100, port: 80, target: "e.x" },
        },
        {
          name: "t.x",
          type: RR_TYPE.TXT,
          class: CLASS_IN,
          ttl: 4294967295,
          data: { kind: "raw", bytes: new Uint8Array([2, 104, 105]) },
        },
      ],
      authorities: [
        {
          name: "x",
          type: RR_TYPE.SOA,
          class: CLASS_IN,
          ttl: 5,
          data: {
            kind: "soa",
            mname: "ns.x",
            rname: "h.x",
            serial: 7,
            refresh: 1,
            retry: 2,
            expire: 3,
            minimum: 4,
          },
        },
      ],
    };
    const back = decodeDnsMessage(encodeDnsMessage(m));
    expect(back).toEqual({
      ...m,
      answers: m.answers.map((a) =>
        a.type === RR_TYPE.AAAA
          ? { ...a, data: { kind: "aaaa", address: "fd00:0:0:0:0:0:0:1" } }
          : a,
      ),
    });
    expect(
      encodeDnsMessage({
        ...query("x", RR_TYPE.AAAA),
        answers: [
          {
            name: "x",
            type: RR_TYPE.AAAA,
            class: CLASS_IN,
            ttl: 1,
            data: { kind: "aaaa", address: "fd00::1" },
          },
        ],
      }),
    ).toEqual(
      encodeDnsMessage({
        ...query("x", RR_TYPE.AAAA),
        answers: [
          {
            name: "x",
            type: RR_TYPE.AAAA,
            class: CLASS_IN,
            ttl: 1,
            data: { kind: "aaaa", address: "fd00:0:0:0:0:0:0:1" },
          },
        ],
      }),
    );
  });

  it("follows compression pointers and rejects pointer loops and cut messages", () => {
    // Header with one question "a.bc" and one answer whose name is a pointer to offset 12.
    const hex = "0001818000010001000000000161026263000001000" + "1c00c000100010000000500040a000001";
    const m = decodeDnsMessage(Buffer.from(hex, "hex"));
    expect(m.answers[0]).toMatchObject({ name: "a.bc", data: { kind: "a", address: "10.0.0.1" } });
    const loop = Buffer.from("000101000001000000000000c00c00010001", "hex");
    expect(() => decodeDnsMessage(loop)).toThrow(DnsFormatError);
    expect(() => decodeDnsMessage(Buffer.from("0001", "hex"))).toThrow(/header/);
  });
});

describe("cluster DNS answers", () => {
  const ask = (name: string, type: number) => answerQuery(query(name, type), source);

  it("a ClusterIP service's A record is its ClusterIP, case-insensitively", () => {
    const r = ask("Web.Default.svc.cluster.local", RR_TYPE.A);
    expect(r).toMatchObject({
      rcode: RCODE.NOERROR,
      authoritative: true,
      id: 0x1234,
      response: true,
    });
    expect(r.answers).toEqual([
      {
        name: "Web.Default.svc.cluster.local",
        type: RR_TYPE.A,
        class: CLASS_IN,
        ttl: 5,
        data: { kind: "a", address: "10.96.0.20" },
      },
    ]);
  });

  it("a headless service answers every ready endpoint, and each endpoint by hostname or dashed IP", () => {
    const all = ask("db.prod.svc.cluster.local", RR_TYPE.A).answers.map((a) => a.data);
    expect(all).toEqual([
      { kind: "a", address: "10.244.1.5" },
      { kind: "a", address: "10.244.2.6" },
    ]);
    expect(ask("db-0.db.prod.svc.cluster.local", RR_TYPE.A).answers[0]?.data).toEqual({
      kind: "a",
      address: "10.244.1.5",
    });
    expect(ask("10-244-2-6.db.prod.svc.cluster.local", RR_TYPE.A).answers[0]?.data).toEqual({
      kind: "a",
      address: "10.244.2.6",
    });
    expect(ask("10-244-2-9.db.prod.svc.cluster.local", RR_TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
  });

  it("SRV for a named port: the service name for ClusterIP, each endpoint for headless", () => {
    const web = ask("_http._tcp.web.default.svc.cluster.local", RR_TYPE.SRV);
    expect(web.answers[0]?.data).toEqual({
      kind: "srv",
      priority: 0,
      weight: 100,
      port: 80,
      target: "web.default.svc.cluster.local",
    });
    expect(web.additionals[0]?.data).toEqual({ kind: "a", address: "10.96.0.20" });
    const db = ask("_pg._tcp.db.prod.svc.cluster.local", RR_TYPE.SRV);
    expect(db.answers.map((a) => a.data)).toEqual([
      {
        kind: "srv",
        priority: 0,
        weight: 100,
        port: 5432,
        target: "db-0.db.prod.svc.cluster.local",
      },
      {
        kind: "srv",
        priority: 0,
        weight: 100,
        port: 5432,
        target: "10-244-2-6.db.prod.svc.cluster.local",
      },
    ]);
    expect(ask("_http._udp.web.default.svc.cluster.local", RR_TYPE.SRV).rcode).toBe(RCODE.NXDOMAIN);
  });

  it("ExternalName is a CNAME", () => {
    expect(ask("ext.default.svc.cluster.local", RR_TYPE.A).answers[0]).toMatchObject({
      type: RR_TYPE.CNAME,
      data: { kind: "name", target: "example.org" },
    });
  });

  it("NXDOMAIN for unknown names and names outside the zone; NODATA with SOA for a known name of another type", () => {
    const nx = ask("nope.default.svc.cluster.local", RR_TYPE.A);
    expect(nx.rcode).toBe(RCODE.NXDOMAIN);
    expect(nx.authorities[0]?.type).toBe(RR_TYPE.SOA);
    expect(ask("web.other.svc.cluster.local", RR_TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(ask("example.org", RR_TYPE.A).rcode).toBe(RCODE.NXDOMAIN);
    expect(ask("web.default.svc.cluster.local.default.svc.cluster.local", RR_TYPE.A).rcode).toBe(
      RCODE.NXDOMAIN,
    );
    const nodata = ask("web.default.svc.cluster.local", RR_TYPE.AAAA);
    expect(nodata.rcode).toBe(RCODE.NOERROR);
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities[0]?.type).toBe(RR_TYPE.SOA);
  });

  it("refuses other opcodes and multi-question queries", () => {
    expect(answerQuery({ ...query("x", RR_TYPE.A), opcode: 2 }, source).rcode).toBe(RCODE.NOTIMP);
    expect(answerQuery({ ...query("x", RR_TYPE.A), questions: [] }, source).rcode).toBe(
      RCODE.FORMERR,
    );
  });
});

describe("DnsServer on 127.0.0.1", () => {
  const server = new DnsServer({
    address: "127.0.0.1",
    port: 0,
    handler: (q) => answerQuery(q, source),
  });
  beforeAll(async () => {
    await server.listen();
  });
  afterAll(async () => {
    await server.close();
  });

  function udpAsk(wire: Uint8Array): Promise<DnsMessage> {
    return new Promise((resolve, reject) => {
      const sock = createSocket("udp4");
      const timer = setTimeout(() => {
        sock.close();
        reject(new Error("no UDP answer within 2 s"));
      }, 2_000);
      sock.on("message", (msg) => {
        clearTimeout(timer);
        sock.close();
        resolve(decodeDnsMessage(msg));
      });
      sock.send(wire, server.port, "127.0.0.1");
    });
  }

  it("answers over UDP", async () => {
    const r = await udpAsk(encodeDnsMessage(query("web.default.svc.cluster.local", RR_TYPE.A, 7)));
    expect(r.id).toBe(7);
    expect(r.answers[0]?.data).toEqual({ kind: "a", address: "10.96.0.20" });
  });

  it("answers a malformed query with FORMERR over UDP", async () => {
    const bad = Buffer.from("00090100000100000000000005", "hex");
    const r = await udpAsk(bad);
    expect(r).toMatchObject({ id: 9, rcode: RCODE.FORMERR, response: true });
  });

  it("answers two pipelined queries over TCP", async () => {
    const frames = [1, 2].map((id) => {
      const q = encodeDnsMessage(query("_pg._tcp.db.prod.svc.cluster.local", RR_TYPE.SRV, id));
      const f = Buffer.alloc(2 + q.length);
      f.writeUInt16BE(q.length, 0);
      f.set(q, 2);
      return f;
    });
    const replies = await new Promise<DnsMessage[]>((resolve, reject) => {
      const sock = connect(server.port, "127.0.0.1", () => sock.write(Buffer.concat(frames)));
      let buf = Buffer.alloc(0);
      const out: DnsMessage[] = [];
      sock.on("error", reject);
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const n = buf.readUInt16BE(0);
          out.push(decodeDnsMessage(buf.subarray(2, 2 + n)));
          buf = buf.subarray(2 + n);
        }
        if (out.length === 2) {
          sock.destroy();
          resolve(out);
        }
      });
    });
    expect(replies.map((r) => r.id)).toEqual([1, 2]);
    expect(replies[1]?.answers).toHaveLength(2);
  });
});
