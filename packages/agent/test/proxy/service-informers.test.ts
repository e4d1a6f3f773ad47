// ServiceProxy and ClusterDns, sharing one pair of informers, against a real tug-apiserver (tug-store in process): Services and
// Endpoints created, changed and deleted through the API reach the iptables input (recorded by
// a fake host command) and the DNS answers (over real UDP on 127.0.0.1).

import { createSocket } from "node:dgram";
import { create } from "@bufbuild/protobuf";
import { EndpointsSchema, objectFromJson, type Service, ServiceSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterDns } from "../../src/dns/cluster-dns.js";
import {
  CLASS_IN,
  type DnsMessage,
  decodeDnsMessage,
  encodeDnsMessage,
  RCODE,
  RR_TYPE,
} from "../../src/dns/dns-message.js";
import type { HostCommand } from "../../src/network/host-command.js";
import { ServiceInformers } from "../../src/proxy/service-informers.js";
import { ServiceProxy } from "../../src/proxy/service-proxy.js";
import { startControlPlane } from "../control-plane.js";

const restores: string[] = [];
const fakeHost: HostCommand = async (argv, stdin) => {
  if (argv[1] === "-V") return "iptables v1.8.9 (nf_tables)\n";
  if (argv[0]?.endsWith("-restore")) restores.push(stdin ?? "");
  if (argv.includes("-C")) throw new Error("rule not found");
  return "";
};

let closeAll: () => Promise<void> = async () => {};
let client: ApiClient;

beforeAll(async () => {
  const plane = await startControlPlane("proxy-test");
  client = plane.client;
  closeAll = plane.close;
}, 60_000);

afterAll(async () => {
  await closeAll();
});

async function eventually(check: () => Promise<void> | void, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function udpAsk(port: number, name: string): Promise<DnsMessage> {
  const q = encodeDnsMessage({
    id: 42,
    response: false,
    opcode: 0,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    rcode: 0,
    questions: [{ name, type: RR_TYPE.A, class: CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  });
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error("no DNS answer within 2 s"));
    }, 2_000);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(decodeDnsMessage(m));
    });
    sock.send(q, port, "127.0.0.1");
  });
}

describe("service proxy and cluster DNS from the API", () => {
  it("program rules and answer names as Services and Endpoints change", async () => {
    const informers = new ServiceInformers(client);
    const proxy = new ServiceProxy({
      client,
      informers,
      run: fakeHost,
      clusterCidr: "10.244.0.0/16",
      minSyncIntervalMs: 50,
    });
    const dns = new ClusterDns({ client, informers, address: "127.0.0.1", port: 0 });
    try {
      await proxy.start();
      const port = await dns.start();
      await client.create(
        ServiceSchema,
        objectFromJson({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web", namespace: "default" },
          spec: {
            type: "NodePort",
            clusterIP: "10.96.0.20",
            selector: { app: "web" },
            ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 31515 }],
          },
        }) as Service,
      );
      const endpoints = await client.create(
        EndpointsSchema,
        create(EndpointsSchema, {
          metadata: { name: "web", namespace: "default" },
          subsets: [
            {
              addresses: [{ ip: "10.244.1.5" }],
              ports: [{ name: "http", port: 8080, protocol: "TCP" }],
            },
          ],
        }),
      );
      await eventually(() => {
        expect(restores.at(-1)).toContain("--to-destination 10.244.1.5:8080");
        expect(restores.at(-1)).toContain("--dport 31515");
      });
      await eventually(async () => {
        const r = await udpAsk(port, "web.default.svc.cluster.local");
        expect(r.answers[0]?.data).toEqual({ kind: "a", address: "10.96.0.20" });
      });

      await client.update(
        EndpointsSchema,
        create(EndpointsSchema, {
          metadata: endpoints.metadata,
          subsets: [
            {
              addresses: [{ ip: "10.244.1.5" }, { ip: "10.244.2.6" }],
              notReadyAddresses: [],
              ports: [{ name: "http", port: 8080, protocol: "TCP" }],
            },
          ],
        }),
      );
      await eventually(() => {
        expect(restores.at(-1)).toContain("--to-destination 10.244.2.6:8080");
        expect(restores.at(-1)).toContain("--probability 0.5000000000");
      });

      await client.delete(ServiceSchema, "web", { namespace: "default" });
      await eventually(() => expect(restores.at(-1)).not.toContain("10.96.0.20"));
      await eventually(async () => {
        expect((await udpAsk(port, "web.default.svc.cluster.local")).rcode).toBe(RCODE.NXDOMAIN);
      });
      expect(proxy.syncs).toBeGreaterThanOrEqual(3);
    } finally {
      await proxy.stop();
      await dns.stop();
      await informers.stop();
    }
  });
});
