// `tug up --agents 2` for real: the daemons as detached processes from source, the two nodes'
// pod networks, the service proxy and the cluster DNS on real Docker and iptables, then
// `tug down` leaves no process, container, Docker network, route or TUG- chain. Checks: a pod
// on node 1 reaches httpd in a pod on node 2 by pod IP; a ClusterIP Service answers from a
// pod; `nslookup` of the Service's full and short names from a pod; NodePort 31515 of
// client-node-port answers on 127.0.0.1 and on the node's InternalIP from the host; a token
// Secret of the default ServiceAccount gets a token from the controller manager (signed with
// the key pair tug up made) that the API server accepts, and a forged one it refuses.
// Runs on its own ports (--base-port 2479: all below 32768, where Linux starts handing out
// ephemeral ports to outgoing connections, which once took store-3's peer port 33380 under
// --base-port 3379) and data dir, queues behind another local cluster
// of this host (the host claim), and cleans up in afterAll even when a step fails.
// busybox's wget crashes in tug/busybox, so HTTP is spoken with nc.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_WAIT_ENV } from "../../src/commands/up.js";
import { readState } from "../../src/local-cluster/cluster-state.js";
import {
  listInstanceContainers,
  removeInstanceContainers,
  removeNetworks,
} from "../../src/local-cluster/docker-cleanup.js";
import { isAlive } from "../../src/local-cluster/process-control.js";
import { stopCluster } from "../../src/local-cluster/supervisor.js";

const ROOT = join(import.meta.dirname, "../../../..");
const TUG = join(ROOT, "packages/cli/bin/tug.ts");
const BASE_PORT = "2479";
const NODES = ["tug-node-1", "tug-node-2"];
const NETWORKS = NODES.map((n) => `tug-${n}`);
const NODE_PORT = 31515;
/** The README's NodePort Service: port 31515 to component=web pods' 3000. */
const NODE_PORT_SERVICE = join(ROOT, "packages/api/test/fixtures/client-node-port.yaml");
const exec = promisify(execFile);

let dir: string;
let dataDir: string;
let instances: string[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function tug(args: string[], timeoutMs = 150_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", TUG, ...args],
      {
        cwd: ROOT,
        timeout: timeoutMs,
        env: { ...process.env, TUGCONFIG: join(dir, "config"), [HOST_WAIT_ENV]: "900" },
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every second until it returns a value, or fails naming `what` after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 120_000) {
  const deadline = Date.now() + ms;
  let last = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message.slice(0, 300);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last}`);
    await sleep(1000);
  }
}

/** The Docker id of a pod's container, found by the CRI labels the agent sets. */
async function containerOf(pod: string): Promise<string | undefined> {
  const { stdout } = await exec("docker", [
    "ps",
    "-q",
    "--filter",
    `label=io.kubernetes.pod.name=${pod}`,
    "--filter",
    "label=io.kubernetes.container.name=main",
  ]);
  return stdout.trim().split("\n")[0] || undefined;
}

async function inPod(container: string, script: string): Promise<string> {
  const { stdout } = await exec("docker", ["exec", container, "sh", "-c", script], {
    timeout: 30_000,
  });
  return stdout;
}

const httpGet = (hostPort: string) =>
  `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${hostPort.replace(":", " ")}`;

async function hostFetch(url: string): Promise<string | undefined> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return r.ok ? await r.text() : undefined;
}

/** What tug put on the host: TUG- iptables rules, tug's routes, the nodes' Docker networks. */
async function hostLeftovers(): Promise<string[]> {
  const rules = (await exec("iptables-save")).stdout.split("\n").filter((l) => l.includes("TUG-"));
  const routes = (await exec("ip", ["route", "show", "proto", "77"])).stdout
    .split("\n")
    .filter((l) => l.trim() !== "");
  const networks = (await exec("docker", ["network", "ls", "--format", "{{.Name}}"])).stdout
    .split("\n")
    .filter((n) => NETWORKS.includes(n));
  return [...rules, ...routes, ...networks];
}

const MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { component: web }
spec:
  nodeName: tug-node-2
  containers:
    - name: main
      image: tug/busybox:latest
      command: ["sh", "-c", "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 3000 -h /www"]
      ports: [{ containerPort: 3000 }]
      readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 2 }
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  nodeName: tug-node-1
  containers:
    - name: main
      image: tug/busybox:latest
      command: ["sleep", "3600"]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { component: web }
  ports: [{ port: 80, targetPort: 3000 }]
`;

const TOKEN_SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: default-token
  annotations: { kubernetes.io/service-account.name: default }
type: kubernetes.io/service-account-token
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-up-e2e-"));
  dataDir = join(dir, "data");
});

afterAll(async () => {
  const state = await readState(dataDir).catch(() => undefined);
  if (state !== undefined) await stopCluster(state, () => {});
  if (instances.length > 0) await removeInstanceContainers(instances).catch(() => 0);
  await removeNetworks(NETWORKS).catch(() => []);
  await rm(dir, { recursive: true, force: true });
}, 180_000);

describe("tug up / status / down", () => {
  it("brings up two networked nodes, serves Services and DNS, and leaves nothing behind", async () => {
    const common = ["--data-dir", dataDir];
    const up = await tug(
      [
        "up",
        ...common,
        "--run-dir",
        join(dir, "run"),
        "--agents",
        "2",
        "--base-port",
        BASE_PORT,
        "--from-source",
      ],
      // Queued behind another local cluster of this host, if one runs.
      1_200_000,
    );
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("✓ nodes Ready");

    const state = await readState(dataDir);
    if (state === undefined) throw new Error("tug up wrote no state file");
    instances = state.components.flatMap((c) =>
      c.criInstance === undefined ? [] : [c.criInstance],
    );
    expect(state.components).toHaveLength(10);
    expect(instances).toHaveLength(2);

    const status = await tug(["status", ...common]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/10 of 10 processes running/);
    expect(status.stdout).toMatch(/store leader: store-[123] \(term \d+\)/);

    // Both nodes report their pod network (NetworkUnavailable=False) and a routable address.
    const nodes = JSON.parse((await tug(["get", "nodes", "-o", "json"])).stdout) as {
      items: {
        spec?: { podCIDR?: string };
        status?: {
          addresses?: { type: string; address: string }[];
          conditions?: { type: string; status: string }[];
        };
      }[];
    };
    expect(nodes.items).toHaveLength(2);
    for (const n of nodes.items) {
      expect(n.spec?.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
      expect(n.status?.conditions?.find((c) => c.type === "NetworkUnavailable")?.status).toBe(
        "False",
      );
    }
    const nodeIp = nodes.items[0]?.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    expect(nodeIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(nodeIp).not.toBe("127.0.0.1");

    // A service account token, as Kubernetes 1.24+ hands out long-lived ones: a Secret that
    // names the account, filled by the tokens controller.
    await eventually("the default ServiceAccount", async () => {
      const r = await tug(["get", "serviceaccount", "default", "-o", "name"]);
      return r.code === 0 ? r.stdout : undefined;
    });
    const tokenManifest = join(dir, "token.yaml");
    await writeFile(tokenManifest, TOKEN_SECRET);
    expect((await tug(["apply", "-f", tokenManifest])).code).toBe(0);
    const token = await eventually("the token in Secret default-token", async () => {
      const r = await tug(["get", "secret", "default-token", "-o", "jsonpath={.data.token}"]);
      return r.code === 0 && r.stdout !== ""
        ? Buffer.from(r.stdout, "base64").toString()
        : undefined;
    });
    expect(token.split(".")).toHaveLength(3);
    const withToken = await tug(["--token", token, "get", "serviceaccounts", "-o", "name"]);
    expect(withToken.stderr).toBe("");
    expect(withToken.stdout).toContain("serviceaccount/default");
    const forged = await tug(["--token", `${token.slice(0, -4)}AAAA`, "get", "pods"]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/Unauthorized/);

    const manifest = join(dir, "net.yaml");
    await writeFile(manifest, MANIFEST);
    for (const file of [manifest, NODE_PORT_SERVICE]) {
      const apply = await tug(["apply", "-f", file]);
      expect(apply.stderr).toBe("");
      expect(apply.code).toBe(0);
    }
    // The ClusterIP tug-apiserver allocated from the service CIDR.
    const webIp = (await tug(["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"])).stdout;
    expect(webIp).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);

    const web = await eventually("the web pod's container", () => containerOf("web"));
    const client = await eventually("the client pod's container", () => containerOf("client"));
    const podIp = (await inPod(web, "ip -4 -o addr show eth0")).match(/inet ([\d.]+)\//)?.[1];
    expect(podIp).toMatch(/^10\.244\.\d+\.\d+$/);

    // Pod to pod across nodes, by pod IP.
    const direct = await eventually("httpd on node 2 from a pod on node 1", async () => {
      const out = await inPod(client, httpGet(`${podIp}:3000`));
      return out.includes("hello from web") ? out : undefined;
    });
    expect(direct).toContain("200 OK");

    // The ClusterIP Service, once the Endpoints (readiness) and the proxy caught up.
    await eventually("the ClusterIP Service from a pod", async () => {
      const out = await inPod(client, httpGet(`${webIp}:80`));
      return out.includes("hello from web") ? out : undefined;
    });

    // Cluster DNS: the full name and the short one through the pod's search path.
    for (const name of ["web.default.svc.cluster.local", "web"]) {
      const answer = await eventually(`nslookup ${name}`, async () => {
        const out = await inPod(client, `nslookup ${name} || true`);
        return out.includes(`Address: ${webIp}`) ? out : undefined;
      });
      expect(answer).toContain("web.default.svc.cluster.local");
    }
    expect(await inPod(client, "cat /etc/resolv.conf")).toBe(
      "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
    );

    // NodePort 31515 from the host: loopback (route_localnet) and the node's InternalIP.
    for (const host of ["127.0.0.1", nodeIp]) {
      const page = await eventually(`NodePort ${NODE_PORT} on ${host}`, () =>
        hostFetch(`http://${host}:${NODE_PORT}/`),
      );
      expect(page).toBe("hello from web\n");
    }

    const containers = await listInstanceContainers(instances);
    expect(containers.length).toBeGreaterThanOrEqual(4);

    const down = await tug(["down", ...common]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/containers: removed [1-9]/);
    expect(down.stdout).toMatch(/networking: removed the TUG- chains, routes and 2 Docker/);
    for (const c of state.components) expect(isAlive(c.pid), c.name).toBe(false);
    expect(await listInstanceContainers(instances)).toEqual([]);
    expect(await readState(dataDir)).toBeUndefined();
    expect(await hostLeftovers()).toEqual([]);

    const after = await tug(["status", ...common]);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain("No tug cluster was started");
  }, 1_500_000);
});
