// computeEndpointSubsets without a cluster: which pods are listed, ready or not, and where.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { makeIntOrString, type Pod, PodSchema, ServiceSchema } from "@tug/api";
import { expect, it } from "vitest";
import { computeEndpointSubsets, findPort } from "../../src/endpoints/endpoint-subsets.js";

function pod(
  name: string,
  ip: string,
  options: { ready?: boolean; phase?: string; deleting?: boolean; hostname?: string } = {},
): Pod {
  return create(PodSchema, {
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      ...(options.deleting ? { deletionTimestamp: timestampFromDate(new Date()) } : {}),
    },
    spec: {
      nodeName: "n1",
      hostname: options.hostname ?? "",
      subdomain: "db",
      containers: [{ name: "c", ports: [{ name: "pg", containerPort: 5432, protocol: "TCP" }] }],
    },
    status: {
      phase: options.phase ?? "Running",
      podIp: ip,
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
    },
  });
}

const service = (spec: Record<string, unknown>) =>
  create(ServiceSchema, { metadata: { name: "db", namespace: "default" }, spec });

it("lists ready and not-ready pods, skips finished, unaddressed and (by default) deleting ones", () => {
  const svc = service({ ports: [{ name: "sql", port: 5432, targetPort: makeIntOrString("pg") }] });
  const pods = [
    pod("b", "10.0.0.2", { ready: false }),
    pod("a", "10.0.0.1", { hostname: "a" }),
    pod("done", "10.0.0.3", { phase: "Succeeded" }),
    pod("noip", ""),
    pod("leaving", "10.0.0.4", { deleting: true }),
  ];
  const { subsets, truncated } = computeEndpointSubsets(svc, pods);
  expect(truncated).toBe(false);
  expect(subsets).toHaveLength(1);
  expect(subsets[0]?.addresses.map((a) => [a.ip, a.hostname, a.nodeName])).toEqual([
    ["10.0.0.1", "a", "n1"],
  ]);
  expect(subsets[0]?.notReadyAddresses.map((a) => a.ip)).toEqual(["10.0.0.2"]);
  expect(subsets[0]?.ports.map((p) => [p.name, p.port, p.protocol])).toEqual([
    ["sql", 5432, "TCP"],
  ]);
});

it("publishNotReadyAddresses lists every pod as ready, deleting ones included", () => {
  const svc = service({ publishNotReadyAddresses: true, ports: [{ port: 80 }] });
  const { subsets } = computeEndpointSubsets(svc, [
    pod("b", "10.0.0.2", { ready: false }),
    pod("leaving", "10.0.0.4", { deleting: true }),
  ]);
  expect(subsets[0]?.addresses.map((a) => a.ip)).toEqual(["10.0.0.2", "10.0.0.4"]);
  expect(subsets[0]?.notReadyAddresses).toEqual([]);
  expect(subsets[0]?.ports[0]?.port).toBe(80);
});

it("a headless service without ports lists addresses alone; capacity truncates", () => {
  const headless = service({ clusterIp: "None" });
  expect(computeEndpointSubsets(headless, [pod("a", "10.0.0.1")]).subsets[0]?.ports).toEqual([]);
  expect(computeEndpointSubsets(service({}), [pod("a", "10.0.0.1")]).subsets).toEqual([]);
  const many = computeEndpointSubsets(
    service({ ports: [{ port: 80 }] }),
    [pod("a", "10.0.0.1"), pod("b", "10.0.0.2", { ready: false }), pod("c", "10.0.0.3")],
    2,
  );
  expect(many.truncated).toBe(true);
  expect(many.subsets[0]?.addresses.map((a) => a.ip)).toEqual(["10.0.0.1", "10.0.0.3"]);
  expect(many.subsets[0]?.notReadyAddresses).toEqual([]);
});

it("findPort: numbers as given, 0 as the service port, names by container port and protocol", () => {
  const p = pod("a", "10.0.0.1");
  const sp = (targetPort: number | string, protocol = "") =>
    service({ ports: [{ port: 81, protocol, targetPort: makeIntOrString(targetPort) }] }).spec
      ?.ports[0];
  const port = (targetPort: number | string, protocol = "") => {
    const s = sp(targetPort, protocol);
    if (s === undefined) throw new Error("no port");
    return findPort(p, s);
  };
  expect(port(8080)).toBe(8080);
  expect(port(0)).toBe(81);
  expect(port("pg")).toBe(5432);
  expect(port("pg", "UDP")).toBeUndefined();
  expect(port("web")).toBeUndefined();
});
