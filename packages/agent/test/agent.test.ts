// tug-agent against a real node: an in-process tug-store and tug-apiserver, tug-cri-docker on
// a temporary socket and the real Docker engine. One cluster is shared by the cases (each
// case uses its own pods); afterAll removes every sandbox and container of the test's node.

import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ConfigMapSchema,
  EventSchema,
  LeaseSchema,
  NodeSchema,
  type Pod,
  PodSchema,
  SecretSchema,
} from "@tug/api";
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
  nodeContainerIds,
  nodeSandboxIds,
  startCluster,
  waitForPod,
} from "./harness.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const BIN = join(REPO_ROOT, "packages/agent/bin/tug-agent.ts");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

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
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** Deletes pods a case is done with, so their restarts and probes stop loading the machine. */
async function retire(...names: string[]): Promise<void> {
  await Promise.all(
    names.map((name) =>
      c.client.delete(PodSchema, name, { namespace: "default", gracePeriodSeconds: 1 }),
    ),
  );
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
    expect(ready).toMatchObject({
      status: "True",
      reason: "KubeletReady",
      message: "kubelet is posting ready status",
    });
    expect(node.status?.conditions.map((x) => x.type).sort()).toEqual([
      "DiskPressure",
      "MemoryPressure",
      "PIDPressure",
      "Ready",
    ]);
    const lease = await c.client.get(LeaseSchema, c.node, { namespace: NODE_LEASE_NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe(c.node);
    expect(lease.spec?.leaseDurationSeconds).toBe(40);
    const first = timestampDate(
      lease.spec?.renewTime ?? ({ seconds: 0n, nanos: 0 } as never),
    ).getTime();
    await eventually(
      "the lease to be renewed",
      async () => {
        const l = await c.client.get(LeaseSchema, c.node, { namespace: NODE_LEASE_NAMESPACE });
        const t = l.spec?.renewTime === undefined ? 0 : timestampDate(l.spec.renewTime).getTime();
        return t > first ? true : undefined;
      },
      10_000,
    );
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
            command: [
              "sh",
              "-c",
              "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 3000 -h /www",
            ],
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

  it("restarts a killed container under restartPolicy Always and counts it", async () => {
    const before = await waitForPod(
      c,
      "client-pod",
      "running",
      (p) => status(p, "client")?.state?.running !== undefined,
    );
    const id = (status(before, "client")?.containerId ?? "").replace("docker://", "");
    await dockerKill(id);
    const after = await waitForPod(
      c,
      "client-pod",
      "restarted",
      (p) =>
        status(p, "client")?.restartCount === 1 &&
        status(p, "client")?.state?.running !== undefined,
    );
    const st = status(after, "client");
    expect(st?.containerId).not.toBe(`docker://${id}`);
    expect(st?.lastState?.terminated).toMatchObject({
      exitCode: 137,
      reason: "Error",
      containerId: `docker://${id}`,
    });
    expect(after.status?.phase).toBe("Running");
  });

  it("puts a failing container into CrashLoopBackOff with the kubelet's message, and GC keeps one dead container", async () => {
    await createPod(c, {
      metadata: { name: "crash" },
      spec: {
        containers: [
          { name: "boom", image: BUSYBOX, command: ["sh", "-c", "echo boom $RANDOM; exit 3"] },
        ],
      },
    });
    const pod = await waitForPod(
      c,
      "crash",
      "CrashLoopBackOff",
      (p) => status(p, "boom")?.state?.waiting?.reason === "CrashLoopBackOff",
    );
    const st = status(pod, "boom");
    expect(st?.state?.waiting?.message).toMatch(
      new RegExp(
        `^back-off \\d+s restarting failed container=boom pod=crash_default\\(${pod.metadata?.uid}\\)$`,
      ),
    );
    expect(st?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(st?.restartCount).toBeGreaterThanOrEqual(1);
    expect(pod.status?.phase).toBe("Running");
    const events = await eventually("the BackOff event", async () => {
      const list = await c.client.list(EventSchema, { namespace: "default" });
      const mine = list.items.filter((e) => e.involvedObject?.uid === pod.metadata?.uid);
      return mine.some((e) => e.reason === "BackOff") ? mine : undefined;
    });
    const backOff = events.find((e) => e.reason === "BackOff");
    expect(backOff).toMatchObject({
      type: "Warning",
      message: `Back-off restarting failed container boom in pod crash_default(${pod.metadata?.uid})`,
      source: { component: "kubelet", host: c.node },
    });
    expect(backOff?.involvedObject?.fieldPath).toBe("spec.containers{boom}");
    expect(events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(["Pulling", "Pulled", "Created", "Started"]),
    );
    expect(cond(pod, "Ready")).toBe("False");
    // The previous run's log is served with ?previous=true.
    const previous = await agentGet(c.agent, "/containerLogs/default/crash/boom?previous=true");
    expect(previous.status).toBe(200);
    expect(previous.body).toMatch(/^boom \S+\n$/);
    await waitForPod(
      c,
      "crash",
      "restarted twice",
      (p) => (status(p, "boom")?.restartCount ?? 0) >= 2,
      40_000,
    );
    await eventually(
      "GC to leave one dead container of boom",
      async () => {
        const list = await c.cri.runtime.listContainers({
          filter: { labelSelector: { "io.kubernetes.pod.uid": pod.metadata?.uid ?? "" } },
        });
        return list.containers.filter((x) => x.state === 2).length === 1 ? true : undefined;
      },
      15_000,
    );
    await retire("crash");
  });

  it("ends pods per restartPolicy: Never and OnFailure with exit reasons Completed and Error", async () => {
    const run = (name: string, policy: string, script: string) =>
      createPod(c, {
        metadata: { name },
        spec: {
          restartPolicy: policy,
          containers: [{ name: "main", image: BUSYBOX, command: ["sh", "-c", script] }],
        },
      });
    await Promise.all([
      run("never-ok", "Never", "exit 0"),
      run("never-fail", "Never", "exit 2"),
      run("onfailure-ok", "OnFailure", "exit 0"),
      run("onfailure-retry", "OnFailure", "exit 1"),
    ]);
    const terminal = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
    const ok = await waitForPod(c, "never-ok", "terminal", terminal);
    expect(ok.status?.phase).toBe("Succeeded");
    expect(status(ok, "main")?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
    expect(cond(ok, "Ready")).toBe("False");
    expect(ok.status?.conditions.find((x) => x.type === "Ready")?.reason).toBe("PodCompleted");
    const fail = await waitForPod(c, "never-fail", "terminal", terminal);
    expect(fail.status?.phase).toBe("Failed");
    expect(status(fail, "main")?.state?.terminated).toMatchObject({ exitCode: 2, reason: "Error" });
    expect(status(fail, "main")?.restartCount).toBe(0);
    const onOk = await waitForPod(c, "onfailure-ok", "terminal", terminal);
    expect(onOk.status?.phase).toBe("Succeeded");
    const retry = await waitForPod(
      c,
      "onfailure-retry",
      "restarted",
      (p) => (status(p, "main")?.restartCount ?? 0) >= 1,
    );
    expect(retry.status?.phase).toBe("Running");
    await retire("onfailure-retry");
  });

  it("enforces limits.memory (OOMKilled) and activeDeadlineSeconds (DeadlineExceeded), and reports termination messages", async () => {
    await createPod(c, {
      metadata: { name: "oom" },
      spec: {
        restartPolicy: "Never",
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: ["tail", "/dev/zero"],
            resources: { limits: { memory: "16Mi" } },
          },
        ],
      },
    });
    await createPod(c, {
      metadata: { name: "deadline" },
      spec: {
        activeDeadlineSeconds: 2,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "main", image: BUSYBOX, command: ["sleep", "100000"] }],
      },
    });
    await createPod(c, {
      metadata: { name: "messages" },
      spec: {
        restartPolicy: "Never",
        containers: [
          {
            name: "file",
            image: BUSYBOX,
            command: ["sh", "-c", "echo bye now > /dev/termination-log; exit 4"],
          },
          {
            name: "logs",
            image: BUSYBOX,
            command: ["sh", "-c", "echo oops; exit 5"],
            terminationMessagePolicy: "FallbackToLogsOnError",
          },
        ],
      },
    });
    const oom = await waitForPod(c, "oom", "Failed", (p) => p.status?.phase === "Failed");
    expect(status(oom, "main")?.state?.terminated).toMatchObject({
      exitCode: 137,
      reason: "OOMKilled",
    });
    const late = await waitForPod(c, "deadline", "Failed", (p) => p.status?.phase === "Failed");
    expect(late.status).toMatchObject({
      reason: "DeadlineExceeded",
      message: "Pod was active on the node longer than the specified deadline",
    });
    const messages = await waitForPod(c, "messages", "Failed", (p) => p.status?.phase === "Failed");
    expect(status(messages, "file")?.state?.terminated).toMatchObject({
      exitCode: 4,
      message: "bye now\n",
    });
    expect(status(messages, "logs")?.state?.terminated).toMatchObject({
      exitCode: 5,
      message: "oops\n",
    });
  });

  it("runs init containers in order before the app containers", async () => {
    await createPod(c, {
      metadata: { name: "inits" },
      spec: {
        // Short: the adoption case deletes this pod while no agent runs (SIGTERM is ignored by sleep).
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: "work", emptyDir: {} }],
        initContainers: [
          {
            name: "one",
            image: BUSYBOX,
            command: ["sh", "-c", "echo one >> /work/order"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          },
          {
            name: "two",
            image: BUSYBOX,
            command: ["sh", "-c", "echo two >> /work/order"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          },
        ],
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: ["sh", "-c", "cat /work/order; exec sleep 100000"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          },
        ],
      },
    });
    const pod = await waitForPod(c, "inits", "Ready", (p) => cond(p, "Ready") === "True");
    expect(
      pod.status?.initContainerStatuses.map((s) => [s.name, s.state?.terminated?.reason]),
    ).toEqual([
      ["one", "Completed"],
      ["two", "Completed"],
    ]);
    expect(cond(pod, "Initialized")).toBe("True");
    const logs = await eventually("main's log", async () => {
      const r = await agentGet(c.agent, "/containerLogs/default/inits/main");
      return r.body.includes("two") ? r.body : undefined;
    });
    expect(logs).toBe("one\ntwo\n");
  });

  it("flips Ready with an httpGet readiness probe, driven through the exec endpoint", async () => {
    await createPod(c, {
      metadata: { name: "ready" },
      spec: {
        containers: [
          {
            name: "web",
            image: BUSYBOX,
            command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8080 -h /www"],
            ports: [{ name: "http", containerPort: 8080 }],
            readinessProbe: {
              httpGet: { path: "/healthy", port: "http" },
              periodSeconds: 1,
              failureThreshold: 1,
            },
          },
        ],
      },
    });
    const running = await waitForPod(
      c,
      "ready",
      "running",
      (p) => status(p, "web")?.state?.running !== undefined,
    );
    expect(cond(running, "Ready")).toBe("False");
    const exec = (command: string[]) =>
      agentExec({
        host: "127.0.0.1",
        port: c.agent.port,
        namespace: "default",
        pod: "ready",
        container: "web",
        command,
      });
    const touched = await exec(["sh", "-c", "echo ok > /www/healthy && echo done"]);
    expect(touched).toMatchObject({ exitCode: 0 });
    expect(touched.stdout.toString()).toBe("done\n");
    await waitForPod(c, "ready", "Ready", (p) => cond(p, "Ready") === "True");
    const failing = await exec(["sh", "-c", "rm /www/healthy; echo gone >&2; exit 7"]);
    expect(failing.exitCode).toBe(7);
    expect(failing.stderr.toString()).toBe("gone\n");
    const unready = await waitForPod(c, "ready", "not Ready", (p) => cond(p, "Ready") === "False");
    expect(unready.status?.conditions.find((x) => x.type === "Ready")?.reason).toBe(
      "ContainersNotReady",
    );
    expect(status(unready, "web")?.restartCount).toBe(0);
    await retire("ready");
  });

  it("restarts a container whose exec liveness probe fails", async () => {
    await createPod(c, {
      metadata: { name: "live" },
      spec: {
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: ["sh", "-c", "touch /tmp/alive; exec sleep 100000"],
            livenessProbe: {
              exec: { command: ["cat", "/tmp/alive"] },
              periodSeconds: 1,
              failureThreshold: 1,
            },
          },
        ],
        terminationGracePeriodSeconds: 2,
      },
    });
    await waitForPod(c, "live", "running", (p) => status(p, "main")?.state?.running !== undefined);
    const r = await agentExec({
      host: "127.0.0.1",
      port: c.agent.port,
      namespace: "default",
      pod: "live",
      container: "main",
      command: ["rm", "/tmp/alive"],
    });
    expect(r.exitCode).toBe(0);
    const restarted = await waitForPod(
      c,
      "live",
      "restarted by liveness",
      (p) =>
        status(p, "main")?.restartCount === 1 && status(p, "main")?.state?.running !== undefined,
    );
    expect(status(restarted, "main")?.lastState?.terminated).toBeDefined();
    await retire("live");
  });

  it("projects configMap and secret volumes (items, modes) and env from values, refs, envFrom and the downward API", async () => {
    await c.client.create(
      ConfigMapSchema,
      create(ConfigMapSchema, {
        metadata: { name: "settings", namespace: "default" },
        data: { greeting: "hello", "app.conf": "color=blue\n", colour: "green" },
      }),
    );
    await c.client.create(
      SecretSchema,
      create(SecretSchema, {
        metadata: { name: "creds", namespace: "default" },
        data: { password: Buffer.from("s3cret") },
      }),
    );
    await createPod(c, {
      metadata: { name: "config", labels: { app: "cfg" } },
      spec: {
        volumes: [
          {
            name: "cfg",
            configMap: {
              name: "settings",
              items: [{ key: "app.conf", path: "conf/app.conf", mode: 0o400 }],
            },
          },
          { name: "sec", secret: { secretName: "creds", defaultMode: 0o440 } },
          { name: "mem", emptyDir: { medium: "Memory" } },
        ],
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: [
              "sh",
              "-c",
              'echo "$GREETING $PASSWORD $CFG_colour $POD_NAME $POD_NS $NODE $EXPANDED"; cat /etc/cfg/conf/app.conf; cat /etc/sec/password; echo; stat -L -c %a /etc/cfg/conf/app.conf /etc/sec/password; grep -c \' /mem tmpfs\' /proc/mounts; test -n "$POD_IP" && echo has-ip; exec sleep 100000',
            ],
            env: [
              {
                name: "GREETING",
                valueFrom: { configMapKeyRef: { name: "settings", key: "greeting" } },
              },
              { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
              { name: "EXPANDED", value: "$(GREETING)-world" },
              {
                name: "MISSING",
                valueFrom: { configMapKeyRef: { name: "settings", key: "nope", optional: true } },
              },
            ],
            envFrom: [{ prefix: "CFG_", configMapRef: { name: "settings" } }],
            volumeMounts: [
              { name: "cfg", mountPath: "/etc/cfg" },
              { name: "sec", mountPath: "/etc/sec" },
              { name: "mem", mountPath: "/mem" },
            ],
          },
        ],
      },
    });
    await waitForPod(
      c,
      "config",
      "running",
      (p) => status(p, "main")?.state?.running !== undefined,
    );
    const logs = await eventually("the config pod's output", async () => {
      const r = await agentGet(c.agent, "/containerLogs/default/config/main");
      return r.body.includes("has-ip") ? r.body : undefined;
    });
    expect(logs).toBe(
      `hello s3cret green config default ${c.node} hello-world\ncolor=blue\ns3cret\n400\n440\n1\nhas-ip\n`,
    );
  });

  it("reports CreateContainerConfigError for a missing ConfigMap key", async () => {
    await createPod(c, {
      metadata: { name: "badref" },
      spec: {
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: ["sleep", "100000"],
            env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "settings", key: "nope" } } }],
          },
        ],
      },
    });
    const pod = await waitForPod(
      c,
      "badref",
      "waiting",
      (p) => status(p, "main")?.state?.waiting?.reason === "CreateContainerConfigError",
    );
    expect(status(pod, "main")?.state?.waiting?.message).toBe(
      "couldn't find key nope in ConfigMap default/settings",
    );
    expect(pod.status?.phase).toBe("Pending");
  });

  it("serves container logs with tailLines and follow", async () => {
    await createPod(c, {
      metadata: { name: "talker" },
      spec: {
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: [
              "sh",
              "-c",
              "for i in 1 2 3 4 5; do echo line $i; done; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done",
            ],
          },
        ],
      },
    });
    await waitForPod(
      c,
      "talker",
      "running",
      (p) => status(p, "main")?.state?.running !== undefined,
    );
    await eventually("five lines", async () =>
      (await agentGet(c.agent, "/containerLogs/default/talker/main")).body.includes("line 5")
        ? true
        : undefined,
    );
    const all = await agentGet(c.agent, "/containerLogs/default/talker/main");
    expect(all.body.startsWith("line 1\nline 2\nline 3\nline 4\nline 5\n")).toBe(true);
    const tail = await agentGet(c.agent, "/containerLogs/default/talker/main?tailLines=2");
    expect(tail.body.split("\n").filter((l) => l !== "")).toHaveLength(2);
    const stamped = await agentGet(
      c.agent,
      "/containerLogs/default/talker/main?tailLines=1&timestamps=true",
    );
    expect(stamped.body).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z tick \d+\n$/);
    // follow: new ticks keep arriving on the open response.
    const followed = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: c.agent.port,
          path: "/containerLogs/default/talker/main?follow=true&tailLines=0",
        },
        (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
            if ((text.match(/tick/g) ?? []).length >= 3) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on("error", (e) => (e.message.includes("socket hang up") ? undefined : reject(e)));
      req.end();
    });
    expect(followed).toMatch(/^tick \d+\ntick \d+\ntick \d+/);
    const unknown = await agentGet(c.agent, "/containerLogs/default/talker/nope");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain("container nope is not valid for pod talker");
    const missing = await agentGet(c.agent, "/containerLogs/default/ghost/main");
    expect(missing.status).toBe(404);
    await retire("talker");
  });

  it("deletes gracefully: preStop and SIGTERM honoured, SIGKILL after the grace period, then the pod object is removed", async () => {
    const hostDir = join(c.dir, "graceful");
    mkdirSync(hostDir, { recursive: true });
    const mount = { volumeMounts: [{ name: "out", mountPath: "/out" }] };
    await createPod(c, {
      metadata: { name: "polite" },
      spec: {
        terminationGracePeriodSeconds: 20,
        volumes: [{ name: "out", hostPath: { path: hostDir } }],
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: [
              "sh",
              "-c",
              "trap 'echo term >> /out/polite; exit 0' TERM; while true; do sleep 0.1; done",
            ],
            lifecycle: {
              preStop: { exec: { command: ["sh", "-c", "echo prestop >> /out/polite"] } },
            },
            ...mount,
          },
        ],
      },
    });
    await createPod(c, {
      metadata: { name: "stubborn" },
      spec: {
        terminationGracePeriodSeconds: 3,
        volumes: [{ name: "out", hostPath: { path: hostDir } }],
        containers: [
          {
            name: "main",
            image: BUSYBOX,
            command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"],
            ...mount,
          },
        ],
      },
    });
    await waitForPod(
      c,
      "polite",
      "running",
      (p) => status(p, "main")?.state?.running !== undefined,
    );
    await waitForPod(
      c,
      "stubborn",
      "running",
      (p) => status(p, "main")?.state?.running !== undefined,
    );
    const start = Date.now();
    const deleted = await c.client.delete(PodSchema, "polite", { namespace: "default" });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    await eventually("polite to be gone", async () =>
      (await getPod(c, "polite")) === undefined ? true : undefined,
    );
    expect(Date.now() - start).toBeLessThan(15_000);
    expect(readFileSync(join(hostDir, "polite"), "utf8")).toBe("prestop\nterm\n");

    const start2 = Date.now();
    await c.client.delete(PodSchema, "stubborn", { namespace: "default" });
    await eventually("stubborn to be gone", async () =>
      (await getPod(c, "stubborn")) === undefined ? true : undefined,
    );
    const took = Date.now() - start2;
    expect(took).toBeGreaterThanOrEqual(3_000);
    expect(took).toBeLessThan(15_000);
    await eventually("the deleted pods' containers to be removed", async () => {
      const list = await c.cri.runtime.listContainers({
        filter: {
          labelSelector: { "io.kubernetes.pod.name": "stubborn", "io.tug.agent.node": c.node },
        },
      });
      return list.containers.length === 0 ? true : undefined;
    });
  });

  it("adopts the running containers after an agent restart: no duplicates, no restarts; removes pods deleted meanwhile", async () => {
    const ready = await waitForPod(c, "client-pod", "Ready", (p) => cond(p, "Ready") === "True");
    const gone = await waitForPod(c, "inits", "Ready", (p) => cond(p, "Ready") === "True");
    const restarts = status(ready, "client")?.restartCount;
    // Let the pods settle, then count by label.
    await new Promise((r) => setTimeout(r, 1500));
    const containersBefore = await nodeContainerIds(c);
    const sandboxesBefore = await nodeSandboxIds(c);
    await c.stopAgent();
    // Deleted while no agent runs: the API server removes it at once (grace 0).
    await c.client.delete(PodSchema, "inits", { namespace: "default", gracePeriodSeconds: 0 });
    const agent = await c.restartAgent();
    expect(agent.port).toBeGreaterThan(0);
    // Several relists and syncs later, nothing new exists.
    await new Promise((r) => setTimeout(r, 4000));
    const running = (
      await c.cri.runtime.listContainers({
        filter: { labelSelector: { "io.tug.agent.node": c.node }, state: { state: 1 } },
      })
    ).containers;
    const runningBefore = running.map((x) => x.id).filter((id) => containersBefore.includes(id));
    expect(running.map((x) => x.id).sort()).toEqual(runningBefore.sort());
    expect((await nodeSandboxIds(c)).filter((id) => !sandboxesBefore.includes(id))).toEqual([]);
    const after = await waitForPod(
      c,
      "client-pod",
      "still Ready",
      (p) => cond(p, "Ready") === "True",
    );
    expect(status(after, "client")?.restartCount).toBe(restarts);
    expect(status(after, "client")?.containerId).toBe(status(ready, "client")?.containerId);
    await eventually("the deleted pod's containers and sandbox to be removed", async () => {
      const selector = {
        "io.kubernetes.pod.uid": gone.metadata?.uid ?? "",
        "io.tug.agent.node": c.node,
      };
      const containers = (
        await c.cri.runtime.listContainers({ filter: { labelSelector: selector } })
      ).containers;
      const sandboxes = (
        await c.cri.runtime.listPodSandbox({ filter: { labelSelector: selector } })
      ).items;
      return containers.length + sandboxes.length === 0 ? true : undefined;
    });
  });
});

describe("agent API", () => {
  it("serves /healthz, /readyz and /metrics", async () => {
    expect(await agentGet(c.agent, "/healthz")).toEqual({ status: 200, body: "ok" });
    expect((await agentGet(c.agent, "/readyz")).status).toBe(200);
    const metrics = await agentGet(c.agent, "/metrics");
    expect(metrics.body).toMatch(/^tug_agent_pod_syncs_total \d+$/m);
    expect(metrics.body).toMatch(/^tug_agent_pods \d+$/m);
  });
});

describe("the tug-agent process", () => {
  it("registers its node from flags and env vars, serves /healthz, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const name = `${c.node}-proc`;
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        BIN,
        `--node-name=${name}`,
        `--container-runtime-endpoint=${c.criEndpoint}`,
        `--root-dir=${join(c.dir, "proc")}`,
        "--address=127.0.0.1",
        `--port=${port}`,
        "--node-labels=tier=test",
      ],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, TUG_AGENT_SERVER: c.apiAddress },
      },
    );
    let output = "";
    child.stderr?.on("data", (b: Buffer) => {
      output += b.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    try {
      const node = await eventually(
        "the process's Node",
        async () => {
          const n = await c.client.get(NodeSchema, name);
          return n.status?.conditions.some((x) => x.type === "Ready" && x.status === "True")
            ? n
            : undefined;
        },
        60_000,
      );
      expect(node.metadata?.labels.tier).toBe("test");
      expect(node.status?.daemonEndpoints?.kubeletEndpoint?.port).toBe(port);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.text()).toBe("ok");
      await eventually("the started log line", async () =>
        output.includes('"msg":"tug-agent started"') ? true : undefined,
      );
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});
