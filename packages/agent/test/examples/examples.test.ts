// The examples of /work/shared/examples end to end, as a user runs them: `tug apply -f` of the
// unchanged manifests on a real two-node cluster (every daemon a real process, pods in
// Docker), then the behaviour Kubernetes would show. The flows share one cluster and run in
// order; the node-loss flow stops an agent, so it is last. Fails (never skips) without Docker.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type Deployment,
  DeploymentSchema,
  EventSchema,
  NodeSchema,
  type Pod,
  PodSchema,
} from "@tug/api";
import { isApiError } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerKill, eventually } from "../harness.js";
import { EXAMPLES_DIR, type ExampleCluster, startExampleCluster } from "./example-cluster.js";
import { isReady, podsOf, watchAvailable } from "./pod-observer.js";

/** Ports of this file's cluster: store 4379, API server 8443, agents 12250/12251. */
const BASE_PORT = 4379;
/**
 * Short node lifecycle timings for the node-loss flow (kube-controller-manager's and
 * kube-apiserver's flag names): the grace period, and the tolerationSeconds DefaultTolerationSeconds
 * gives pods (300 s by default).
 */
const NODE_LIFECYCLE_ENV = {
  TUG_CONTROLLER_MANAGER_NODE_MONITOR_PERIOD: "1s",
  TUG_CONTROLLER_MANAGER_NODE_MONITOR_GRACE_PERIOD: "10s",
  TUG_APISERVER_DEFAULT_NOT_READY_TOLERATION_SECONDS: "2",
  TUG_APISERVER_DEFAULT_UNREACHABLE_TOLERATION_SECONDS: "2",
};
/** A pod start on a loaded machine: sandbox + container in Docker with vfs, then a probe. */
const POD_START_MS = 120_000;
const WEB = "component=web";
/** One flow: a few CLI commands (tsx start-up, seconds each under load) and pod starts. */
const FLOW_TIMEOUT_MS = 300_000;
/** `tug up` may first wait for another local cluster to go (one per host), then starts ten daemons. */
const CLUSTER_START_MS = 960_000;

let cluster: ExampleCluster;
const example = (name: string) => join(EXAMPLES_DIR, name);

beforeAll(async () => {
  cluster = await startExampleCluster({
    basePort: BASE_PORT,
    env: NODE_LIFECYCLE_ENV,
    progress: (line) => process.stderr.write(`examples: ${line}\n`),
  });
}, CLUSTER_START_MS);

afterAll(async () => {
  await cluster?.close();
}, 180_000);

async function getPod(name: string, namespace = "default"): Promise<Pod | undefined> {
  try {
    return await cluster.api.get(PodSchema, name, { namespace });
  } catch (e) {
    if (isApiError(e, "NotFound")) return undefined;
    throw e;
  }
}

/** An HTTP GET from the host; the body, or undefined while nothing answers. */
async function httpGet(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

async function deployment(): Promise<Deployment> {
  return cluster.api.get(DeploymentSchema, "client-deployment", { namespace: "default" });
}

/**
 * Waits until the Deployment is rolled out with `replicas` ready pods, no others left, and
 * `where` holds for those pods.
 */
async function waitDeploymentReady(
  replicas: number,
  ms = POD_START_MS,
  where: (pods: Pod[]) => boolean = () => true,
): Promise<Pod[]> {
  return eventually(
    `client-deployment: ${replicas} ready replicas and no other pods`,
    async () => {
      const d = await deployment();
      const s = d.status;
      const pods = await podsOf(cluster.api, WEB);
      const live = pods.filter((p) => p.metadata?.deletionTimestamp === undefined);
      const done =
        (s?.observedGeneration ?? 0n) >= (d.metadata?.generation ?? 0n) &&
        s?.updatedReplicas === replicas &&
        s?.readyReplicas === replicas &&
        s?.replicas === replicas &&
        live.length === replicas &&
        live.every(isReady) &&
        where(live);
      return done ? live : undefined;
    },
    ms,
  );
}

/** The example with its container's command replaced (a new pod template: a rollout). */
async function deploymentVariant(edit: (doc: string) => string, file: string): Promise<string> {
  const original = await readFile(example("client-deployment.yaml"), "utf8");
  const changed = edit(original);
  expect(changed).not.toBe(original);
  const path = join(cluster.dir, file);
  await writeFile(path, changed);
  return path;
}

describe("the examples on two agents", () => {
  // The three pods are independent of each other: they start side by side.
  it.concurrent(
    "client-pod runs and answers HTTP on its pod IP",
    async ({ expect }) => {
      expect(await cluster.tugOk(["apply", "-f", example("client-pod.yaml")])).toContain(
        "pod/client-pod created",
      );
      const pod = await eventually(
        "client-pod Running, Ready, with a pod IP",
        async () => {
          const p = await getPod("client-pod");
          return p?.status?.phase === "Running" && isReady(p) && p.status.podIp !== ""
            ? p
            : undefined;
        },
        POD_START_MS,
      );
      expect(cluster.nodes).toContain(pod.spec?.nodeName);
      const body = await eventually(
        "HTTP answer from client-pod",
        () => httpGet(`http://${pod.status?.podIp}:3000/`),
        30_000,
      );
      expect(body).toBe("hello from client-pod\n");
      // Its label component=web would make client-deployment's ReplicaSet adopt it.
      await cluster.api.delete(PodSchema, "client-pod", { namespace: "default" });
    },
    FLOW_TIMEOUT_MS,
  );

  it.concurrent(
    "secret-pod: the secret's value is readable inside mypod",
    async ({ expect }) => {
      const applied = await cluster.tugOk(["apply", "-f", example("secret-pod.yaml")]);
      expect(applied).toContain("namespace/myns created");
      expect(applied).toContain("secret/mysecret created");
      expect(applied).toContain("pod/mypod created");
      const pod = await eventually(
        "mypod Running",
        async () => {
          const p = await getPod("mypod", "myns");
          return p?.status?.phase === "Running" ? p : undefined;
        },
        POD_START_MS,
      );
      expect(pod.spec?.nodeName).not.toBe("");
      // The command cats /etc/foo/username: "value-1\r\n" base64-decoded, in the container's log.
      const log = await eventually(
        "value-1 in `tug logs -n myns mypod`",
        async () => {
          const out = await cluster.tug(["logs", "-n", "myns", "mypod"]);
          return out.code === 0 && out.stdout.includes("value-1") ? out.stdout : undefined;
        },
        60_000,
      );
      // The file's bytes, \r included, as the kubelet keeps them (no TTY).
      expect(log).toBe("value-1\r\n");
      const exec = await cluster.tug([
        "exec",
        "-n",
        "myns",
        "mypod",
        "--",
        "cat",
        "/etc/foo/password",
      ]);
      expect(exec.code).toBe(0);
      expect(exec.stdout).toBe("value-2\r\n");
      await cluster.api.delete(PodSchema, "mypod", { namespace: "myns", gracePeriodSeconds: 0 });
    },
    FLOW_TIMEOUT_MS,
  );

  it.concurrent(
    "node-selector-pod stays Pending with FailedScheduling until a node is labelled",
    async ({ expect }) => {
      await cluster.tugOk(["apply", "-f", example("node-selector-pod.yaml")]);
      const event = await eventually(
        "a FailedScheduling event for pod nginx",
        async () => {
          const events = await cluster.api.list(EventSchema, { namespace: "default" });
          return events.items.find(
            (e) => e.involvedObject?.name === "nginx" && e.reason === "FailedScheduling",
          );
        },
        60_000,
      );
      expect(event.message).toMatch(/0\/2 nodes are available/);
      const pending = await getPod("nginx");
      expect(pending?.status?.phase).toBe("Pending");
      expect(pending?.spec?.nodeName).toBe("");

      const target = cluster.nodes[1] ?? "";
      expect(await cluster.tugOk(["label", "nodes", target, "disktype=ssd"])).toContain(
        `node/${target} labeled`,
      );
      const running = await eventually(
        `nginx Running on ${target}`,
        async () => {
          const p = await getPod("nginx");
          return p?.status?.phase === "Running" ? p : undefined;
        },
        POD_START_MS,
      );
      expect(running.spec?.nodeName).toBe(target);
      await cluster.api.delete(PodSchema, "nginx", { namespace: "default", gracePeriodSeconds: 0 });
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    "client-deployment spreads 3 replicas over both nodes and restarts a killed container",
    async () => {
      expect(await cluster.tugOk(["apply", "-f", example("client-deployment.yaml")])).toContain(
        "deployment.apps/client-deployment created",
      );
      const pods = await waitDeploymentReady(3);
      const nodes = new Set(pods.map((p) => p.spec?.nodeName));
      expect([...nodes].sort()).toEqual([...cluster.nodes].sort());
      for (const p of pods) {
        expect(await httpGet(`http://${p.status?.podIp}:3000/`)).toBe(
          `hello from ${p.metadata?.name}\n`,
        );
      }

      const victim = pods[0] as Pod;
      const name = victim.metadata?.name ?? "";
      const containerId = (victim.status?.containerStatuses[0]?.containerId ?? "").replace(
        /^[a-z]+:\/\//,
        "",
      );
      expect(containerId).not.toBe("");
      await dockerKill(containerId);
      const restarted = await eventually(
        `${name}: restartCount 1 and Ready again`,
        async () => {
          const p = await getPod(name);
          const status = p?.status?.containerStatuses[0];
          return p !== undefined && (status?.restartCount ?? 0) >= 1 && isReady(p) ? p : undefined;
        },
        POD_START_MS,
      );
      expect(restarted.status?.containerStatuses[0]?.restartCount).toBe(1);
      expect(restarted.metadata?.uid).toBe(victim.metadata?.uid);
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    "client-deployment rolls to a new command without dropping below replicas − maxUnavailable",
    async () => {
      const before = await deployment();
      const replicas = before.spec?.replicas ?? 0;
      // RollingUpdate defaults (25%): maxUnavailable rounds down, so 0 of 3 may be unavailable.
      const maxUnavailable = Math.floor(replicas * 0.25);
      const variant = await deploymentVariant(
        (doc) => doc.replace("echo hello from", "echo hello v2 from"),
        "client-deployment-v2.yaml",
      );
      const observer = await watchAvailable(cluster.api, WEB);
      try {
        expect(await cluster.tugOk(["apply", "-f", variant])).toContain(
          "deployment.apps/client-deployment configured",
        );
        const status = await cluster.tugOk([
          "rollout",
          "status",
          "deployment/client-deployment",
          "--timeout",
          "3m",
        ]);
        expect(status).toContain('deployment "client-deployment" successfully rolled out');
        const pods = await waitDeploymentReady(replicas);
        for (const p of pods) {
          expect(await httpGet(`http://${p.status?.podIp}:3000/`)).toBe(
            `hello v2 from ${p.metadata?.name}\n`,
          );
        }
      } finally {
        observer.stop();
      }
      expect(observer.error()).toBeUndefined();
      expect(observer.samples()).toBeGreaterThan(replicas);
      expect(observer.minimum()).toBeGreaterThanOrEqual(replicas - maxUnavailable);
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    "client-deployment scales to 5 and back to 1",
    async () => {
      await cluster.tugOk(["scale", "deployment", "client-deployment", "--replicas", "5"]);
      const five = await waitDeploymentReady(5);
      expect(new Set(five.map((p) => p.spec?.nodeName)).size).toBe(2);
      await cluster.tugOk(["scale", "deployment", "client-deployment", "--replicas", "1"]);
      await waitDeploymentReady(1);
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    "client-node-port answers on NodePort 31515 of each node",
    async () => {
      await cluster.tugOk(["apply", "-f", example("client-node-port.yaml")]);
      for (const name of cluster.nodes) {
        const node = await cluster.api.get(NodeSchema, name);
        const ip = node.status?.addresses.find((a) => a.type === "InternalIP")?.address ?? "";
        const body = await eventually(
          `an answer on ${ip}:31515 (node ${name})`,
          () => httpGet(`http://${ip}:31515/`),
          30_000,
        );
        expect(body).toMatch(/^hello v2 from client-deployment-/);
      }
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    "a lost node's pods move to the other node after the grace and toleration periods",
    async () => {
      // The example as written; its pods tolerate the lost node for the 2 s the API server's
      // DefaultTolerationSeconds gives (NODE_LIFECYCLE_ENV). Four replicas, so both nodes hold some.
      await cluster.tugOk(["apply", "-f", example("client-deployment.yaml")]);
      await cluster.tugOk(["scale", "deployment", "client-deployment", "--replicas=4"]);
      const pods = await waitDeploymentReady(4);
      const lost = cluster.nodes[1] ?? "";
      const survivor = cluster.nodes[0] ?? "";
      expect(pods.some((p) => p.spec?.nodeName === lost)).toBe(true);

      const killedAt = Date.now();
      await cluster.killNode(lost);
      // Grace period, NoExecute taint, eviction after tolerationSeconds, replacements scheduled.
      const onSurvivor = (list: Pod[]) => list.every((p) => p.spec?.nodeName === survivor);
      const moved = await waitDeploymentReady(4, 180_000, onSurvivor);
      expect(moved).toHaveLength(4);
      process.stderr.write(
        `examples: node loss: 4 ready pods on ${survivor} ${((Date.now() - killedAt) / 1000).toFixed(1)} s after ${lost} died\n`,
      );
      const node = await cluster.api.get(NodeSchema, lost);
      const ready = node.status?.conditions.find((c) => c.type === "Ready");
      expect(ready?.status).toBe("Unknown");
      expect(node.spec?.taints.map((t) => `${t.key}:${t.effect}`)).toContain(
        "node.kubernetes.io/unreachable:NoExecute",
      );
    },
    FLOW_TIMEOUT_MS,
  );
});
