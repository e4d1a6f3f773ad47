// tug-agent against a real node: an in-process tug-store and tug-apiserver, tug-cri-docker on
// a temporary socket and the real Docker engine. One cluster is shared by the cases (each
// case uses its own pods); afterAll removes every sandbox and container of the test's node.

import { request } from "node:http";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { LeaseSchema, NodeSchema, type Pod } from "@tug/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentExec, NODE_LEASE_NAMESPACE } from "../src/index.js";
import {
  agentGet,
  BUSYBOX,
  type Cluster,
  createPod,
  dockerKill,
  eventually,
  getPod,
  startCluster,
  waitForPod,
} from "./harness.js";

let c: Cluster;
beforeAll(async () => {
  c = await startCluster();
}, 120_000);
afterAll(async () => {
  await c?.close();
}, 120_000);

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 3000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const status = (p: Pod, name: string) => p.status?.containerStatuses.find((s) => s.name === name);
const cond = (p: Pod, type: string) => p.status?.conditions.find((x) => x.type === type)?.status;

describe("node", () => {
  it("registers its Node with capacity, labels, addresses and Ready, and renews its Lease", async () => {
    const node = await c.client.get(NodeSchema, c.node);
    expect(node.metadata?.labels).toMatchObject({
      "kubernetes.io/hostname": c.node,
      "kubernetes.io/os": "linux",
    });
    expect(node.status?.capacity).toMatchObject({ pods: "110" });
    expect(Number(node.status?.capacity.cpu)).toBeGreaterThan(0);
    expect(node.status?.capacity.memory).toMatch(/^\d+Ki$/);
    expect(node.status?.allocatable.memory).toBeDefined();
    expect(node.status?.addresses.map((a) => a.type)).toEqual(["InternalIP", "Hostname"]);
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.port).toBe(c.agent.port);
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^docker:\/\/\d+/);
    const ready = node.status?.conditions.find((x) => x.type === "Ready");
    expect(ready).toMatchObject({ status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" });
    expect(node.status?.conditions.map((x) => x.type).sort()).toEqual([
      "DiskPressure",
      "MemoryPressure",
      "PIDPressure",
      "Ready",
    ]);
    const lease = await c.client.get(LeaseSchema, c.node, { namespace: NODE_LEASE_NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe(c.node);
    expect(lease.spec?.leaseDurationSeconds).toBe(40);
    const first = timestampDate(lease.spec?.renewTime ?? { seconds: 0n, nanos: 0 } as never).getTime();
    await eventually("the lease to be renewed", async () => {
      const l = await c.client.get(LeaseSchema, c.node, { namespace: NODE_LEASE_NAMESPACE });
      const t = l.spec?.renewTime === undefined ? 0 : timestampDate(l.spec.renewTime).getTime();
      return t > first ? true : undefined;
    }, 10_000);
  });
});

describe("pods", () => {
  it("runs client-pod's spec; it answers HTTP on its pod IP and reports Running and Ready", async () => {
    await createPod(c, {
      metadata: { name: "client-pod", labels: { component: "web" } },
      spec: {
        containers: [
          {
            name: "client",
            image: BUSYBOX,
            command: ["sh", "-c", "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 3000 -h /www"],
            ports: [{ containerPort: 3000 }],
            readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 1 },
          },
        ],
      },
    });
    const pod = await waitForPod(c, "client-pod", "Ready", (p) => cond(p, "Ready") === "True");
    expect(pod.status?.phase).toBe("Running");
    expect(pod.status?.podIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pod.status?.hostIp).not.toBe("");
    expect(pod.status?.startTime).toBeDefined();
    const st = status(pod, "client");
    expect(st?.state?.running).toBeDefined();
    expect(st).toMatchObject({ ready: true, started: true, restartCount: 0, image: BUSYBOX });
    expect(st?.containerId).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(cond(pod, "Initialized")).toBe("True");
    expect(cond(pod, "ContainersReady")).toBe("True");
    const res = await eventually("HTTP on the pod IP", async () => {
      const r = await httpGet(`http://${pod.status?.podIp}:3000/`);
      return r.status === 200 ? r : undefined;
    });
    expect(res.body).toBe("hello from client-pod\n");
  });
});
