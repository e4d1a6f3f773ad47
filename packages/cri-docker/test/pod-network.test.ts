// --pod-network and the sandbox's DNS config against the real engine: sandboxes join the named
// Docker network (the pod IP is their address on it), NetworkReady follows that network's
// existence, and the sandbox's resolv.conf holds exactly CRI's DNSConfig (Docker's embedded
// 127.0.0.11 resolver replaced), seen from a container that joins the sandbox.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriClient, CriServer, cri } from "../src/index.js";
import { resolvConfText } from "../src/resolv-conf.js";
import { BUSYBOX, eventually, type Harness, PAUSE, podConfig, startHarness } from "./harness.js";

let h: Harness;
let server: CriServer | undefined;
let client: CriClient | undefined;
let network = "";
/** A subnet unlikely to collide with anything on a test host. */
const SUBNET = "10.251.77.0/24";

beforeAll(async () => {
  h = await startHarness();
  network = `tug-crinet-${h.runId}`;
  await h.docker.createNetwork({
    Name: network,
    Driver: "bridge",
    IPAM: { Config: [{ Subnet: SUBNET, Gateway: "10.251.77.1" }] },
    Labels: { "io.tug.test.run": h.runId },
  });
  server = await CriServer.start({
    socketPath: join(h.dir, "net", "cri.sock"),
    docker: h.docker,
    pauseImage: PAUSE,
    instance: `net-${h.runId}`,
    podNetwork: network,
  });
  client = new CriClient(server.socketPath);
});

afterAll(async () => {
  try {
    client?.close();
    await server?.stop();
  } finally {
    // The harness removes every container of this run (they carry its label), then the network.
    await h?.close();
    if (network !== "")
      await h.docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
  }
});

function crt(): CriClient {
  if (client === undefined) throw new Error("the runtime did not start");
  return client;
}

describe("--pod-network", () => {
  it("attaches sandboxes to the named network and reports the address on it as the pod IP", async () => {
    const conditions = (await crt().runtime.status({})).status?.conditions ?? [];
    expect(conditions.find((c) => c.type === "NetworkReady")?.status).toBe(true);
    const { podSandboxId } = await crt().runtime.runPodSandbox({ config: podConfig(h, "onnet") });
    const info = await h.docker.getContainer(podSandboxId).inspect();
    expect(info.HostConfig.NetworkMode).toBe(network);
    const ip = (await crt().runtime.podSandboxStatus({ podSandboxId })).status?.network?.ip ?? "";
    expect(ip).toMatch(/^10\.251\.77\.\d+$/);
    expect(ip).toBe(info.NetworkSettings.Networks[network]?.IPAddress);
  });

  it("reports NetworkReady=false, naming the network, while it does not exist", async () => {
    const missing = `tug-absent-${h.runId}`;
    const other = await CriServer.start({
      socketPath: join(h.dir, "absent", "cri.sock"),
      docker: h.docker,
      pauseImage: PAUSE,
      instance: `absent-${h.runId}`,
      podNetwork: missing,
    });
    const c = new CriClient(other.socketPath);
    try {
      const conditions = (await c.runtime.status({})).status?.conditions ?? [];
      const net = conditions.find((x) => x.type === "NetworkReady");
      expect(net?.status).toBe(false);
      expect(net?.reason).toBe("NetworkPluginNotReady");
      expect(net?.message).toContain(missing);
    } finally {
      c.close();
      await other.stop();
    }
  });
});

describe("sandbox DNS config", () => {
  it("writes CRI's servers, searches and options to the resolv.conf the pod's containers see", async () => {
    const config = podConfig(h, "dns");
    config.dnsConfig = {
      $typeName: "runtime.v1.DNSConfig",
      servers: ["10.96.0.10"],
      searches: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
      options: ["ndots:5"],
    };
    const { podSandboxId } = await crt().runtime.runPodSandbox({ config });
    const { containerId } = await crt().runtime.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: "sh", attempt: 0 },
        image: { image: BUSYBOX },
        command: ["sleep", "300"],
        labels: { ...h.labels },
        logPath: "sh/0.log",
      },
    });
    await crt().runtime.startContainer({ containerId });
    await eventually("the container to run", async () => {
      const s = (await crt().runtime.containerStatus({ containerId })).status;
      return s?.state === cri.ContainerState.CONTAINER_RUNNING ? true : undefined;
    });
    const out = await crt().runtime.execSync({ containerId, cmd: ["cat", "/etc/resolv.conf"] });
    const text = new TextDecoder().decode(out.stdout);
    expect(text).toBe(
      "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
    );
    expect(text).not.toContain("127.0.0.11");
  });

  it("formats resolv.conf(5) lines, leaving out empty search and options", () => {
    expect(resolvConfText({ servers: ["1.1.1.1", "8.8.8.8"], searches: [], options: [] })).toBe(
      "nameserver 1.1.1.1\nnameserver 8.8.8.8\n",
    );
  });
});
