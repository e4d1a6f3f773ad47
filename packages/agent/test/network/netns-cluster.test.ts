// Real packets, no Docker: two "nodes" as network namespaces joined by a veth underlay, each
// with a pod bridge and pods (namespaces of their own) on it. NodeNetwork programs the routes
// and rules in the node namespaces, IptablesProxier the service rules; clients in a pod
// namespace reach endpoints by ClusterIP (TCP and UDP) and by NodePort on the other node's IP.
// Needs root. Every namespace has a unique name and is deleted in afterAll.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostCommand } from "../../src/network/host-command.js";
import { NodeNetwork, type NodeNetworkSpec } from "../../src/network/node-network.js";
import { IptablesProxier, tugChains } from "../../src/proxy/iptables-proxier.js";
import type { ProxyServicePort } from "../../src/proxy/service-ports.js";
import { localDnsServicePorts } from "../../src/proxy/service-proxy.js";

const id = randomBytes(3).toString("hex");
const ns = (name: string) => `tug${id}-${name}`;
const host = hostCommand();
const created: string[] = [];
const servers: ChildProcess[] = [];

const NODE1_IP = "192.168.250.1";
const NODE2_IP = "192.168.250.2";
const CLUSTER_CIDR = "10.244.0.0/16";
const CLUSTER_IP = "10.96.0.20";
const UDP_IP = "10.96.0.53";
const DNS_IP = "10.96.0.10";
const NODE_PORT = 31515;
const PODS = [
  { name: "ep1", node: "n1", ip: "10.244.1.10" },
  { name: "ep2", node: "n1", ip: "10.244.1.11" },
  { name: "ep3", node: "n2", ip: "10.244.2.10" },
  { name: "cl", node: "n2", ip: "10.244.2.20" },
] as const;
const GATEWAY = { n1: "10.244.1.1", n2: "10.244.2.1" } as const;

function specOf(node: "n1" | "n2"): NodeNetworkSpec {
  return node === "n1"
    ? {
        nodeName: "n1",
        podCidr: "10.244.1.0/24",
        clusterCidr: CLUSTER_CIDR,
        peers: [{ name: "n2", podCidr: "10.244.2.0/24", nodeIp: NODE2_IP }],
      }
    : {
        nodeName: "n2",
        podCidr: "10.244.2.0/24",
        clusterCidr: CLUSTER_CIDR,
        peers: [{ name: "n1", podCidr: "10.244.1.0/24", nodeIp: NODE1_IP }],
      };
}

function web(endpoints: readonly string[]): ProxyServicePort {
  return {
    namespace: "default",
    name: "web",
    portName: "http",
    protocol: "TCP",
    clusterIp: CLUSTER_IP,
    port: 80,
    nodePort: NODE_PORT,
    endpoints: endpoints.map((ip) => ({ ip, port: 8080 })),
  };
}
const dnsPort: ProxyServicePort = {
  namespace: "kube-system",
  name: "kube-dns",
  portName: "dns",
  protocol: "UDP",
  clusterIp: UDP_IP,
  port: 53,
  nodePort: 0,
  endpoints: [{ ip: "10.244.1.11", port: 5353 }],
};

async function sh(...argv: string[]): Promise<string> {
  return host(argv);
}

// Each endpoint answers a TCP connection and a UDP datagram with its own name.
const SERVER = `
const net = require("node:net"); const dgram = require("node:dgram");
const name = process.argv[1];
const tcp = net.createServer((s) => s.end(name)).listen(8080, "0.0.0.0", () => {
  const udp = dgram.createSocket("udp4");
  udp.on("message", (m, r) => udp.send(name, r.port, r.address));
  udp.bind(5353, "0.0.0.0", () => console.log("ready"));
});`;

// Opens `count` TCP connections one after another (each a new conntrack entry, so a new
// random choice) and prints how many answers came from each endpoint.
const CLIENT = `
const net = require("node:net"); const dgram = require("node:dgram");
const [mode, host, port, count] = process.argv.slice(1);
const seen = {};
function tcpOnce() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: Number(port), timeout: 3000 });
    let data = "";
    s.on("data", (d) => (data += d));
    s.on("end", () => resolve(data));
    s.on("timeout", () => { s.destroy(); reject(new Error("timeout")); });
    s.on("error", reject);
  });
}
function udpOnce() {
  return new Promise((resolve, reject) => {
    const u = dgram.createSocket("udp4");
    const t = setTimeout(() => { u.close(); reject(new Error("timeout")); }, 3000);
    u.on("message", (m) => { clearTimeout(t); u.close(); resolve(String(m)); });
    u.send("?", Number(port), host);
  });
}
(async () => {
  for (let i = 0; i < Number(count); i++) {
    const who = await (mode === "udp" ? udpOnce() : tcpOnce()).catch((e) => "error:" + e.message);
    seen[who] = (seen[who] ?? 0) + 1;
  }
  console.log(JSON.stringify(seen));
})();`;

async function runClient(
  mode: "tcp" | "udp",
  target: string,
  port: number,
  count: number,
  from = "cl",
) {
  const out = await hostCommand(ns(from))([
    "node",
    "-e",
    CLIENT,
    mode,
    target,
    String(port),
    String(count),
  ]);
  return JSON.parse(out) as Record<string, number>;
}

function startServer(pod: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns(pod), "node", "-e", SERVER, pod], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    servers.push(child);
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdout.on("data", (d) => {
      if (String(d).includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`server ${pod} exited ${code}: ${err}`)));
  });
}

// The cluster DNS server (tug's own code, run by tsx) inside node n2 on its bridge gateway,
// answering web.default.svc.cluster.local with the ClusterIP.
const src = (rel: string) => fileURLToPath(new URL(`../../src/dns/${rel}`, import.meta.url));
const DNS_SERVER = `
import { DnsServer } from ${JSON.stringify(src("dns-server.ts"))};
import { answerQuery } from ${JSON.stringify(src("cluster-dns-resolver.ts"))};
const web = { metadata: { name: "web", namespace: "default" }, spec: { type: "ClusterIP", clusterIp: "${CLUSTER_IP}", ports: [] } };
const source = { service: (ns, name) => (ns === "default" && name === "web" ? web : undefined), endpoints: () => undefined };
const server = new DnsServer({ address: "${GATEWAY.n2}", port: 53, handler: (q) => answerQuery(q, source) });
await server.listen();
console.log("ready");`;

function startDnsServer(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns("n2"),
        "node",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        DNS_SERVER,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
        cwd: fileURLToPath(new URL("../../../..", import.meta.url)),
      },
    );
    servers.push(child);
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdout.on("data", (d) => {
      if (String(d).includes("ready")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`DNS server exited ${code}: ${err}`)));
  });
}

async function addNetns(name: string): Promise<void> {
  await sh("ip", "netns", "add", name);
  created.push(name);
  await sh("ip", "-n", name, "link", "set", "lo", "up");
}

beforeAll(async () => {
  for (const node of ["n1", "n2"] as const) {
    await addNetns(ns(node));
    await sh("ip", "netns", "exec", ns(node), "sysctl", "-qw", "net.ipv4.ip_forward=1");
    await sh("ip", "-n", ns(node), "link", "add", `br${id}`, "type", "bridge");
    await sh("ip", "-n", ns(node), "addr", "add", `${GATEWAY[node]}/24`, "dev", `br${id}`);
    await sh("ip", "-n", ns(node), "link", "set", `br${id}`, "up");
  }
  // The underlay between the nodes.
  await sh(
    "ip",
    "link",
    "add",
    `u${id}a`,
    "netns",
    ns("n1"),
    "type",
    "veth",
    "peer",
    "name",
    `u${id}b`,
    "netns",
    ns("n2"),
  );
  await sh("ip", "-n", ns("n1"), "addr", "add", `${NODE1_IP}/24`, "dev", `u${id}a`);
  await sh("ip", "-n", ns("n2"), "addr", "add", `${NODE2_IP}/24`, "dev", `u${id}b`);
  await sh("ip", "-n", ns("n1"), "link", "set", `u${id}a`, "up");
  await sh("ip", "-n", ns("n2"), "link", "set", `u${id}b`, "up");
  // A real node has a default route; un-DNATed service traffic must reach FORWARD to be rejected.
  await sh("ip", "-n", ns("n2"), "route", "add", "10.96.0.0/12", "via", NODE1_IP);
  for (const pod of PODS) {
    await addNetns(ns(pod.name));
    const hostSide = `v${id}${pod.name}`;
    await sh(
      "ip",
      "link",
      "add",
      hostSide,
      "netns",
      ns(pod.node),
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      ns(pod.name),
    );
    await sh("ip", "-n", ns(pod.node), "link", "set", hostSide, "master", `br${id}`, "up");
    await sh("ip", "-n", ns(pod.name), "addr", "add", `${pod.ip}/24`, "dev", "eth0");
    await sh("ip", "-n", ns(pod.name), "link", "set", "eth0", "up");
    await sh("ip", "-n", ns(pod.name), "route", "add", "default", "via", GATEWAY[pod.node]);
  }
  await Promise.all(["ep1", "ep2", "ep3"].map(startServer));
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.kill("SIGKILL");
  rmSync(`/etc/netns/${ns("cl")}`, { recursive: true, force: true });
  for (const name of created.reverse()) {
    await sh("ip", "netns", "del", name).catch(() => {});
  }
  const left = (await sh("ip", "netns", "list")).split("\n").filter((l) => l.includes(`tug${id}-`));
  expect(left).toEqual([]);
});

describe("pod network and service proxy in network namespaces", () => {
  const net1 = new NodeNetwork(hostCommand(ns("n1")));
  const net2 = new NodeNetwork(hostCommand(ns("n2")));
  const proxy1 = new IptablesProxier({ run: hostCommand(ns("n1")), clusterCidr: CLUSTER_CIDR });
  const proxy2 = new IptablesProxier({ run: hostCommand(ns("n2")), clusterCidr: CLUSTER_CIDR });

  it("routes pod to pod across nodes by pod IP (idempotently applied)", async () => {
    for (let i = 0; i < 2; i++) {
      await net1.apply(specOf("n1"));
      await net2.apply(specOf("n2"));
    }
    expect(await net2.routes()).toEqual([{ cidr: "10.244.1.0/24", via: NODE1_IP }]);
    const rules = await hostCommand(ns("n2"))(["iptables-save"]);
    expect(rules.match(/-A FORWARD -j TUG-FORWARD/g)).toHaveLength(1);
    expect(rules.match(/-A POSTROUTING -j TUG-POD-MASQ/g)).toHaveLength(1);
    expect(await runClient("tcp", "10.244.1.10", 8080, 2)).toEqual({ ep1: 2 });
  });

  it("spreads ClusterIP connections over every endpoint at random", async () => {
    const ports = [web(["10.244.1.10", "10.244.1.11", "10.244.2.10"]), dnsPort];
    await proxy2.sync(ports);
    await proxy2.sync(ports); // idempotent: jumps once
    const nat = await hostCommand(ns("n2"))(["iptables-save", "-t", "nat"]);
    expect(nat.match(/-A PREROUTING .*-j TUG-SERVICES/g)).toHaveLength(1);
    const seen = await runClient("tcp", CLUSTER_IP, 80, 60);
    expect(Object.keys(seen).sort()).toEqual(["ep1", "ep2", "ep3"]);
    // UDP by ClusterIP, DNATed to another port.
    expect(await runClient("udp", UDP_IP, 53, 3)).toEqual({ ep2: 3 });
  });

  it("follows endpoint changes and removes the chains of gone endpoints", async () => {
    await proxy2.sync([web(["10.244.2.10"])]);
    expect(await runClient("tcp", CLUSTER_IP, 80, 10)).toEqual({ ep3: 10 });
    // Hairpin: the only endpoint reaches its own service (masqueraded to the gateway), once
    // its bridge port is in hairpin mode.
    expect(await net2.enableHairpin(`br${id}`)).toBe(2);
    expect(await net2.enableHairpin(`br${id}`)).toBe(0);
    expect(await runClient("tcp", CLUSTER_IP, 80, 3, "ep3")).toEqual({ ep3: 3 });
    const chains = tugChains(await hostCommand(ns("n2"))(["iptables-save", "-t", "nat"]));
    expect(chains.filter((c) => c.startsWith("TUG-SEP-"))).toHaveLength(1);
    expect(chains.filter((c) => c.startsWith("TUG-SVC-"))).toHaveLength(1);
    // No ready endpoint: refused at once (the filter table's REJECT), no DNAT.
    await proxy2.sync([web([])]);
    expect(await runClient("tcp", CLUSTER_IP, 80, 2)).toEqual({
      "error:connect ECONNREFUSED 10.96.0.20:80": 2,
    });
  });

  it("pods resolve service names through the DNS ClusterIP, DNATed to the node's DNS server", async () => {
    // \`ip netns exec\` bind-mounts /etc/netns/<ns>/resolv.conf: the pod's resolver as the
    // sandbox DNS config gives it (server, search path, ndots:5).
    mkdirSync(`/etc/netns/${ns("cl")}`, { recursive: true });
    writeFileSync(
      `/etc/netns/${ns("cl")}/resolv.conf`,
      `nameserver ${DNS_IP}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
    );
    await startDnsServer();
    await proxy2.sync([
      ...localDnsServicePorts({ clusterIp: DNS_IP, address: GATEWAY.n2, port: 53 }),
      web(["10.244.2.10"]),
    ]);
    const cl = hostCommand(ns("cl"));
    const full = await cl(["busybox", "nslookup", "web.default.svc.cluster.local", DNS_IP]);
    expect(full).toMatch(/Address:\s+10\.96\.0\.20/);
    await expect(
      cl(["busybox", "nslookup", "nope.default.svc.cluster.local", DNS_IP]),
    ).rejects.toThrow(/NXDOMAIN|can't find/);
  });

  it("answers on the NodePort of the other node's IP", async () => {
    await proxy1.sync([web(["10.244.1.10", "10.244.1.11", "10.244.2.10"])]);
    const seen = await runClient("tcp", NODE1_IP, NODE_PORT, 40);
    expect(Object.keys(seen).sort()).toEqual(["ep1", "ep2", "ep3"]);
  });

  it("cleanup and teardown remove exactly what was added", async () => {
    const before = await hostCommand(ns("n1"))(["iptables-save"]);
    expect(before).toContain("TUG-");
    for (const [proxy, net, node] of [
      [proxy1, net1, "n1"],
      [proxy2, net2, "n2"],
    ] as const) {
      await proxy.cleanup();
      await net.teardown();
      await net.teardown(); // repeatable
      const after = await hostCommand(ns(node))(["iptables-save"]);
      expect(after).not.toContain("TUG-");
      expect(await net.routes()).toEqual([]);
    }
    const unrouted = await runClient("tcp", "10.244.1.10", 8080, 1);
    expect(Object.keys(unrouted)).toHaveLength(1);
    expect(Object.keys(unrouted)[0]).toMatch(/^error:/);
  });
});
