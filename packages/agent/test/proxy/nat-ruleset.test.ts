import { create } from "@bufbuild/protobuf";
import { EndpointsSchema, ServiceSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { tugChains } from "../../src/proxy/iptables-proxier.js";
import {
  endpointChain,
  filterRuleset,
  natCleanupRuleset,
  natRuleset,
  probability,
  serviceChain,
} from "../../src/proxy/nat-ruleset.js";
import { proxyServicePorts } from "../../src/proxy/service-ports.js";

const web = create(ServiceSchema, {
  metadata: { name: "web", namespace: "default" },
  spec: {
    type: "NodePort",
    clusterIp: "10.96.0.20",
    ports: [{ name: "http", protocol: "TCP", port: 80, nodePort: 31515 }],
  },
});
const dns = create(ServiceSchema, {
  metadata: { name: "kube-dns", namespace: "kube-system" },
  spec: {
    type: "ClusterIP",
    clusterIp: "10.96.0.10",
    ports: [
      { name: "dns", protocol: "UDP", port: 53 },
      { name: "dns-tcp", protocol: "TCP", port: 53 },
    ],
  },
});
const headless = create(ServiceSchema, {
  metadata: { name: "db", namespace: "default" },
  spec: { clusterIp: "None", ports: [{ name: "", protocol: "TCP", port: 5432 }] },
});
const webEndpoints = create(EndpointsSchema, {
  metadata: { name: "web", namespace: "default" },
  subsets: [
    {
      addresses: [{ ip: "10.244.2.7" }, { ip: "10.244.1.5" }, { ip: "10.244.1.12" }],
      notReadyAddresses: [{ ip: "10.244.1.9" }],
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    },
  ],
});
const dnsEndpoints = create(EndpointsSchema, {
  metadata: { name: "kube-dns", namespace: "kube-system" },
  subsets: [
    {
      addresses: [{ ip: "10.244.0.1" }],
      ports: [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
      ],
    },
  ],
});

describe("proxyServicePorts", () => {
  it("joins ready addresses by port name, sorted; skips headless services and not-ready addresses", () => {
    const ports = proxyServicePorts([web, dns, headless], [webEndpoints, dnsEndpoints]);
    expect(ports.map((p) => `${p.namespace}/${p.name}:${p.portName}/${p.protocol}`)).toEqual([
      "default/web:http/TCP",
      "kube-system/kube-dns:dns/UDP",
      "kube-system/kube-dns:dns-tcp/TCP",
    ]);
    expect(ports[0]?.endpoints).toEqual([
      { ip: "10.244.1.5", port: 8080 },
      { ip: "10.244.1.12", port: 8080 },
      { ip: "10.244.2.7", port: 8080 },
    ]);
    expect(ports[0]?.nodePort).toBe(31515);
    expect(ports[1]?.nodePort).toBe(0);
  });

  it("a service without Endpoints has a port with no endpoints", () => {
    expect(proxyServicePorts([web], [])[0]?.endpoints).toEqual([]);
  });
});

describe("natRuleset", () => {
  const input = {
    servicePorts: proxyServicePorts([web, dns, headless], [webEndpoints, dnsEndpoints]),
    clusterCidr: "10.244.0.0/16",
  };

  it("matches the golden kube-proxy layout", async () => {
    await expect(natRuleset(input)).toMatchFileSnapshot("./testdata/nat-ruleset.golden");
  });

  it("gives endpoint i of n the probability 1/(n-i) and the last one no statistic match", () => {
    const text = natRuleset(input);
    const svc = serviceChain(input.servicePorts[0] ?? expect.fail("no port"));
    const jumps = text
      .split("\n")
      .filter((l) => l.startsWith(`-A ${svc} `) && l.includes("TUG-SEP-"));
    expect(jumps).toHaveLength(3);
    expect(jumps[0]).toContain(`--probability ${probability(3)}`);
    expect(jumps[1]).toContain("--probability 0.5000000000");
    expect(jumps[2]).not.toContain("statistic");
    expect(probability(3)).toBe("0.3333333333");
  });

  it("is deterministic and names chains within iptables' 28 characters", () => {
    expect(natRuleset(input)).toBe(natRuleset(input));
    const sp = input.servicePorts[0] ?? expect.fail("no port");
    expect(serviceChain(sp)).toMatch(/^TUG-SVC-[A-Z2-7]{16}$/);
    expect(endpointChain(sp, "10.244.1.5", 8080)).toMatch(/^TUG-SEP-[A-Z2-7]{16}$/);
    expect(endpointChain(sp, "10.244.1.5", 8080)).not.toBe(endpointChain(sp, "10.244.1.12", 8080));
  });

  it("deletes stale TUG- chains and never touches other chains", () => {
    const text = natRuleset({
      ...input,
      existingChains: ["TUG-SVC-OLD", "DOCKER", "TUG-SERVICES"],
    });
    expect(text).toContain(":TUG-SVC-OLD - [0:0]");
    expect(text).toContain("-X TUG-SVC-OLD");
    expect(text).not.toContain("DOCKER");
    expect(text).not.toContain("-X TUG-SERVICES");
    expect(text).not.toContain("TUG-POD-MASQ");
  });

  it("REJECTs new connections to service ports without endpoints, in the filter table", () => {
    const ports = proxyServicePorts([web, dns], [dnsEndpoints]);
    expect(filterRuleset(ports)).toBe(
      [
        "*filter",
        ":TUG-SERVICES - [0:0]",
        '-A TUG-SERVICES -m comment --comment "default/web:http has no endpoints" -p tcp -m tcp -d 10.96.0.20/32 --dport 80 -j REJECT --reject-with icmp-port-unreachable',
        '-A TUG-SERVICES -m comment --comment "default/web:http has no endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 31515 -j REJECT --reject-with icmp-port-unreachable',
        "COMMIT",
        "",
      ].join("\n"),
    );
    expect(natRuleset({ servicePorts: ports })).not.toContain("10.96.0.20");
  });

  it("limits node ports to the given addresses", () => {
    const text = natRuleset({ ...input, nodePortAddresses: ["192.168.1.10"] });
    expect(text).toContain("-d 192.168.1.10/32 -j TUG-NODEPORTS");
    expect(text).not.toContain("addrtype");
  });

  it("cleanup input flushes and deletes only tug's chains", () => {
    const save =
      "*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n:TUG-SERVICES - [0:0]\n:TUG-SEP-X - [0:0]\n:TUG-POD-MASQ - [0:0]\nCOMMIT\n";
    expect(tugChains(save)).toEqual(["TUG-SERVICES", "TUG-SEP-X", "TUG-POD-MASQ"]);
    expect(natCleanupRuleset(tugChains(save))).toBe(
      "*nat\n:TUG-SEP-X - [0:0]\n:TUG-SERVICES - [0:0]\n-X TUG-SEP-X\n-X TUG-SERVICES\nCOMMIT\n",
    );
  });
});
