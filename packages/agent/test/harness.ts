// A whole node for the agent's tests: tug-store in process, tug-apiserver on it, tug-cri-docker
// on a temporary socket against the real Docker engine, and a tug-agent with a node name unique
// to the run. close() stops the agent, then removes every sandbox and container carrying the
// node's label (even when tests failed), then stops the rest. Fails (never skips) without
// Docker or the local images.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { objectFromJson, type Pod, PodSchema, ServiceAccountSchema } from "@tug/api";
import { SYSTEM_NAMESPACES } from "@tug/apiserver";
import { type ApiClient, isApiError } from "@tug/client";
import { CriClient, CriServer } from "@tug/cri-docker";
import { Agent, type AgentOptions, POD_LABEL, silentLogger } from "../src/index.js";
import { startControlPlane } from "./control-plane.js";

const run = promisify(execFile);

export const BUSYBOX = "tug/busybox:latest";
export const PAUSE = "tug/pause:latest";

export interface Cluster {
  client: ApiClient;
  /** The API server's host:port. */
  apiAddress: string;
  /** The CRI endpoint, unix://... */
  criEndpoint: string;
  cri: CriClient;
  node: string;
  dir: string;
  agent: Agent;
  /** Stops the running agent and starts a new one on the same node and root dir. */
  restartAgent(): Promise<Agent>;
  /** Stops the running agent; restartAgent starts a new one. */
  stopAgent(): Promise<void>;
  close(): Promise<void>;
}

async function checkDocker(): Promise<void> {
  try {
    await run("docker", ["version", "--format", "{{.Server.Version}}"]);
  } catch (e) {
    throw new Error(`no Docker engine answers; run scripts/setup-docker.sh (${String(e)})`);
  }
  for (const image of [BUSYBOX, PAUSE]) {
    await run("docker", ["image", "inspect", image]).catch(() => {
      throw new Error(`image ${image} is missing; run scripts/build-images.sh`);
    });
  }
}

/** Starts the cluster; `agentOptions` override the agent's (short test timings by default). */
export async function startCluster(agentOptions: Partial<AgentOptions> = {}): Promise<Cluster> {
  await checkDocker();
  const dir = mkdtempSync(join(tmpdir(), "tug-agent-test-"));
  const node = `agent-test-${process.pid}-${Date.now().toString(36)}`;
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const f of cleanups.reverse()) {
      const t = Date.now();
      await f().catch(() => undefined);
      if (process.env.TUG_TEST_DEBUG)
        process.stderr.write(`cleanup ${cleanups.indexOf(f)} took ${Date.now() - t} ms\n`);
    }
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const plane = await startControlPlane("agent-test");
    cleanups.push(() => plane.close());
    const client = plane.client;
    for (const namespace of SYSTEM_NAMESPACES) {
      await client.create(
        ServiceAccountSchema,
        create(ServiceAccountSchema, { metadata: { name: "default", namespace } }),
      );
    }
    const socketPath = join(dir, "run", "cri.sock");
    const runtime = await CriServer.start({ socketPath, pauseImage: PAUSE });
    const cri = new CriClient(socketPath);
    // Runs before the runtime stops (cleanups run in reverse): every sandbox and container
    // of this node goes, whatever the tests left behind.
    cleanups.push(async () => {
      await runtime.stop();
    });
    cleanups.push(async () => {
      cri.close();
    });
    cleanups.push(() => removeNodeContainers(cri, node));
    const options: AgentOptions = {
      nodeName: node,
      servers: [plane.address],
      runtimeEndpoint: `unix://${socketPath}`,
      rootDir: join(dir, "agent"),
      address: "127.0.0.1",
      port: 0,
      nodeStatusUpdateMs: 1_000,
      nodeLeaseRenewMs: 1_000,
      initialBackOffMs: 3_000,
      containerGcPeriodMs: 2_000,
      log: silentLogger,
      ...agentOptions,
    };
    let agent = new Agent(options);
    cleanups.push(() => agent.stop());
    await agent.start();
    return {
      client,
      apiAddress: plane.address,
      criEndpoint: `unix://${socketPath}`,
      cri,
      node,
      dir,
      get agent() {
        return agent;
      },
      async stopAgent() {
        await agent.stop();
      },
      async restartAgent() {
        await agent.stop();
        agent = new Agent(options);
        await agent.start();
        return agent;
      },
      close: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Unmounts what the agent mounted under `dir` (tmpfs emptyDirs of pods left running). */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
}

/** Stops and removes every sandbox and container labelled with `node`. */
export async function removeNodeContainers(cri: CriClient, node: string): Promise<void> {
  const selector = { [POD_LABEL.node]: node };
  const containers = (await cri.runtime.listContainers({ filter: { labelSelector: selector } }))
    .containers;
  await Promise.all(
    containers.map((c) =>
      cri.runtime.removeContainer({ containerId: c.id }).catch(() => undefined),
    ),
  );
  const sandboxes = (await cri.runtime.listPodSandbox({ filter: { labelSelector: selector } }))
    .items;
  // Removal force-removes the pause container: no need to wait out a stop.
  await Promise.all(
    sandboxes.map((s) =>
      cri.runtime.removePodSandbox({ podSandboxId: s.id }).catch(() => undefined),
    ),
  );
}

/** Polls `check` every 200 ms until it returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last === undefined ? "" : ` (last error: ${String(last)})`}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates a pod bound to the cluster's node (no scheduler here). */
export async function createPod(c: Cluster, json: Record<string, unknown>): Promise<Pod> {
  const pod = objectFromJson({ apiVersion: "v1", kind: "Pod", ...json }) as Pod;
  if (pod.spec !== undefined) pod.spec.nodeName = c.node;
  if (pod.metadata !== undefined && pod.metadata.namespace === "")
    pod.metadata.namespace = "default";
  return c.client.create(PodSchema, pod);
}

/** Reads a pod; undefined once it is gone. */
export async function getPod(c: Cluster, name: string): Promise<Pod | undefined> {
  try {
    return await c.client.get(PodSchema, name, { namespace: "default" });
  } catch (e) {
    if (isApiError(e, "NotFound")) return undefined;
    throw e;
  }
}

/** Waits until `pred` holds for the pod; returns the pod. */
export function waitForPod(
  c: Cluster,
  name: string,
  what: string,
  pred: (p: Pod) => boolean,
  ms = 30_000,
): Promise<Pod> {
  return eventually(
    `pod ${name}: ${what}`,
    async () => {
      const p = await getPod(c, name);
      return p !== undefined && pred(p) ? p : undefined;
    },
    ms,
  );
}

/** A GET on the agent API; returns status and body. */
export function agentGet(agent: Agent, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: agent.port, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Container ids of this node, by CRI label, sorted. */
export async function nodeContainerIds(c: Cluster): Promise<string[]> {
  const list = await c.cri.runtime.listContainers({
    filter: { labelSelector: { [POD_LABEL.node]: c.node } },
  });
  return list.containers.map((x) => x.id).sort();
}

/** Sandbox ids of this node, by CRI label, sorted. */
export async function nodeSandboxIds(c: Cluster): Promise<string[]> {
  const list = await c.cri.runtime.listPodSandbox({
    filter: { labelSelector: { [POD_LABEL.node]: c.node } },
  });
  return list.items.map((x) => x.id).sort();
}

export async function dockerKill(id: string): Promise<void> {
  await run("docker", ["kill", id]);
}
