// Service ClusterIP and NodePort allocation against real API servers on one store (tug-store):
// dynamic and requested allocation, Kubernetes' error texts, release on delete, type changes,
// immutability, the `kubernetes` Service, two servers allocating at once, and the repair of
// leaked reservations.

import { create } from "@bufbuild/protobuf";
import { EndpointsSchema, type Service, ServiceSchema } from "@tug/api";
import type { ApiClient } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IpRange } from "../../src/allocation/ip-range.js";
import { EtcdClient } from "../../src/storage/etcd-client.js";
import { type Harness, startHarness } from "../server/harness.js";
import { failure } from "../support/api-failure.js";
import { startTugStore } from "../support/stores.js";

function service(name: string, spec: Record<string, unknown> = {}): Service {
  return create(ServiceSchema, {
    metadata: { name, namespace: "default" },
    spec: { ports: [{ name: "http", port: 80 }], ...spec },
  });
}

describe("Service IP and node port allocation", () => {
  let h: Harness;
  let client: ApiClient;
  let etcd: EtcdClient;
  const range = IpRange.parse("10.96.0.0/12");

  beforeAll(async () => {
    h = await startHarness(startTugStore, { serviceRepairIntervalMs: 0 });
    client = h.client;
    etcd = new EtcdClient({ endpoints: h.store.endpoints });
  });
  afterAll(async () => {
    etcd?.close();
    await h?.stop();
  });

  const reserved = async (kind: "serviceips" | "servicenodeports", slot: string | number) =>
    (await etcd.get(`/registry/ranges/${kind}/${slot}`)).kv !== undefined;

  it("creates the kubernetes Service at 10.96.0.1 with this server's endpoint", async () => {
    const svc = await client.get(ServiceSchema, "kubernetes", { namespace: "default" });
    expect(svc.spec?.clusterIp).toBe("10.96.0.1");
    expect(svc.spec?.clusterIps).toEqual(["10.96.0.1"]);
    expect(svc.spec?.ports.map((p) => [p.name, p.port])).toEqual([["https", 443]]);
    const ep = await client.get(EndpointsSchema, "kubernetes", { namespace: "default" });
    const port = Number(h.servers[0]?.address.split(":")[1]);
    expect(ep.subsets[0]?.ports[0]?.port).toBe(port);
    expect(ep.subsets[0]?.addresses[0]?.ip).toBe("127.0.0.1");
    expect(await reserved("serviceips", "10.96.0.1")).toBe(true);
  });

  it("allocates a ClusterIP from the upper band of the range and clusterIPs with it", async () => {
    const svc = await client.create(ServiceSchema, service("dyn"));
    const ip = svc.spec?.clusterIp ?? "";
    const offset = range.offsetOf(ip);
    expect(offset).toBeDefined();
    expect(offset as number).toBeGreaterThanOrEqual(range.staticBand);
    expect(svc.spec?.clusterIps).toEqual([ip]);
    expect(svc.spec?.ports[0]?.nodePort).toBe(0);
    expect(await reserved("serviceips", ip)).toBe(true);
  });

  it("honours a requested IP of the static band and refuses it twice, or out of range", async () => {
    const dns = await client.create(ServiceSchema, service("dns", { clusterIp: "10.96.0.10" }));
    expect(dns.spec?.clusterIp).toBe("10.96.0.10");
    const taken = await failure(
      client.create(ServiceSchema, service("dns2", { clusterIp: "10.96.0.10" })),
    );
    expect(taken.reason).toBe("Invalid");
    expect(taken.message).toBe(
      'Service "dns2" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    const outside = await failure(
      client.create(ServiceSchema, service("far", { clusterIp: "10.112.0.1" })),
    );
    expect(outside.message).toBe(
      'Service "far" is invalid: spec.clusterIPs: Invalid value: []string{"10.112.0.1"}: failed to allocate IP 10.112.0.1: the provided IP (10.112.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    // A refused create leaves nothing reserved.
    expect(await reserved("serviceips", "10.112.0.1")).toBe(false);
  });

  it("gives nothing to headless and ExternalName services", async () => {
    const headless = await client.create(ServiceSchema, service("hl", { clusterIp: "None" }));
    expect(headless.spec?.clusterIp).toBe("None");
    const ext = await client.create(
      ServiceSchema,
      service("ext", { type: "ExternalName", externalName: "example.com", ports: [] }),
    );
    expect(ext.spec?.clusterIp).toBe("");
  });

  it("allocates node ports, refuses a taken one, and releases everything on delete", async () => {
    const np = await client.create(
      ServiceSchema,
      service("np", {
        type: "NodePort",
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 81, nodePort: 31515 },
        ],
      }),
    );
    const [a, b] = np.spec?.ports ?? [];
    expect(b?.nodePort).toBe(31515);
    expect(a?.nodePort).toBeGreaterThanOrEqual(30000 + 86); // the dynamic band
    expect(a?.nodePort).toBeLessThanOrEqual(32767);
    const clash = await failure(
      client.create(
        ServiceSchema,
        service("np2", { type: "NodePort", ports: [{ name: "x", port: 80, nodePort: 31515 }] }),
      ),
    );
    expect(clash.message).toBe(
      'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 31515: provided port is already allocated',
    );
    await client.delete(ServiceSchema, "np", { namespace: "default" });
    expect(await reserved("servicenodeports", 31515)).toBe(false);
    expect(await reserved("servicenodeports", a?.nodePort ?? 0)).toBe(false);
    expect(await reserved("serviceips", np.spec?.clusterIp ?? "")).toBe(false);
    // Free again: the same port and IP can be requested by another Service.
    const again = await client.create(
      ServiceSchema,
      service("np3", {
        type: "NodePort",
        clusterIp: np.spec?.clusterIp,
        ports: [{ name: "x", port: 80, nodePort: 31515 }],
      }),
    );
    expect(again.spec?.clusterIp).toBe(np.spec?.clusterIp);
  });

  it("keeps allocations on update, allocates on ClusterIP → NodePort and releases on the way back", async () => {
    const svc = await client.create(ServiceSchema, service("flip"));
    const ip = svc.spec?.clusterIp ?? "";
    // An update that leaves clusterIP empty keeps it (patchAllocatedValues).
    const cleared = create(ServiceSchema, svc);
    if (cleared.spec !== undefined) {
      cleared.spec.clusterIp = "";
      cleared.spec.clusterIps = [];
      cleared.spec.type = "NodePort";
    }
    const asNodePort = await client.update(ServiceSchema, cleared);
    expect(asNodePort.spec?.clusterIp).toBe(ip);
    const nodePort = asNodePort.spec?.ports[0]?.nodePort ?? 0;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(await reserved("servicenodeports", nodePort)).toBe(true);
    const back = create(ServiceSchema, asNodePort);
    if (back.spec !== undefined) back.spec.type = "ClusterIP";
    const asClusterIp = await client.update(ServiceSchema, back);
    expect(asClusterIp.spec?.ports[0]?.nodePort).toBe(0);
    expect(asClusterIp.spec?.clusterIp).toBe(ip);
    expect(await reserved("servicenodeports", nodePort)).toBe(false);
    expect(await reserved("serviceips", ip)).toBe(true);
    // clusterIP is immutable.
    const moved = create(ServiceSchema, asClusterIp);
    if (moved.spec !== undefined) {
      moved.spec.clusterIp = "10.96.0.77";
      moved.spec.clusterIps = ["10.96.0.77"];
    }
    const immutable = await failure(client.update(ServiceSchema, moved));
    expect(immutable.message).toContain(
      'spec.clusterIPs[0]: Invalid value: "10.96.0.77": field is immutable',
    );
    expect(await reserved("serviceips", "10.96.0.77")).toBe(false);
  });

  it("never gives the same IP or node port to services created at once on two API servers", async () => {
    // Small ranges shared by two servers: random choices collide often, only the store's
    // compare-and-swap keeps them apart.
    const small = {
      serviceRepairIntervalMs: 0,
      serviceClusterIpRange: "10.96.0.0/26",
      serviceNodePortRange: "30000-30039",
    };
    const race = await startHarness(startTugStore, small);
    try {
      const second = await race.addServer(small);
      const clients = [race.client, second.client];
      const created = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (clients[i % 2] as ApiClient).create(
            ServiceSchema,
            service(`race-${i}`, { type: "NodePort", ports: [{ name: "p", port: 80 }] }),
          ),
        ),
      );
      const ips = created.map((s) => s.spec?.clusterIp);
      const ports = created.map((s) => s.spec?.ports[0]?.nodePort);
      expect(new Set(ips).size).toBe(created.length);
      expect(ips).not.toContain("10.96.0.1"); // the kubernetes Service's
      expect(new Set(ports).size).toBe(created.length);
      for (const port of ports) expect(port).toBeLessThanOrEqual(30039);
    } finally {
      await race.stop();
    }
  });

  it("repair gives back a leaked reservation only when a later round still finds it", async () => {
    const key = "/registry/ranges/serviceips/10.96.0.99";
    await etcd.create(
      key,
      new TextEncoder().encode(JSON.stringify({ namespace: "default", name: "gone", uid: "x" })),
    );
    const handlers = h.servers[0]?.handlers;
    if (handlers === undefined) throw new Error("no server");
    const first = await handlers.repairServiceAllocations();
    expect(first.released).not.toContain(key);
    expect((await etcd.get(key)).kv).toBeDefined();
    const secondRound = await handlers.repairServiceAllocations();
    expect(secondRound.released).toContain(key);
    expect((await etcd.get(key)).kv).toBeUndefined();
    // A Service whose reservation is missing gets it back.
    const svc = await client.get(ServiceSchema, "dns", { namespace: "default" });
    await etcd.delete("/registry/ranges/serviceips/10.96.0.10");
    const third = await handlers.repairServiceAllocations();
    expect(third.recorded).toContain("/registry/ranges/serviceips/10.96.0.10");
    expect(svc.spec?.clusterIp).toBe("10.96.0.10");
    expect(await reserved("serviceips", "10.96.0.10")).toBe(true);
  });
});
