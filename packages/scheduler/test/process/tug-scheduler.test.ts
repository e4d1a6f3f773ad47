// tug-scheduler against a real cluster control plane: tug-store and tug-apiserver as child
// processes, the scheduler in this process (runTugScheduler, as bin/tug-scheduler.ts runs it).
// It takes the Lease, binds what fits, records FailedScheduling for what does not, retries it
// when a node is added; a standby takes over when the leader stops. (Whether the stopping
// leader's release of the Lease lands is not asserted: @tug/client's elector can lose that
// write to its own in-flight renewal, a Conflict; the standby then waits the lease out.)

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import {
  EventSchema,
  LeaseSchema,
  type Node,
  NodeSchema,
  type Pod,
  PodSchema,
  ServiceAccountSchema,
} from "@tug/api";
import { ApiClient } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningScheduler, runTugScheduler } from "../../src/process/main.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** A cold tsx start of a process takes several seconds on a busy 2-core machine. */
const START_TIMEOUT_MS = 120_000;
const WAIT_TIMEOUT_MS = 30_000;

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

interface Proc {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function startBinary(bin: string, args: readonly string[]): Proc {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(REPO_ROOT, bin), ...args],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function stopBinary(p: Proc | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  await p.exit;
  clearTimeout(timer);
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = WAIT_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function node(name: string, cpu: string): Node {
  return create(NodeSchema, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    status: {
      allocatable: { cpu, memory: "8Gi", pods: "110" },
      capacity: { cpu, memory: "8Gi", pods: "110" },
    },
  });
}

function pod(name: string, cpu: string): Pod {
  return create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox", resources: { requests: { cpu } } }] },
  });
}

describe("the tug-scheduler process", () => {
  let dataDir: string;
  let store: Proc | undefined;
  let apiserver: Proc | undefined;
  let apiPort = 0;
  let client: ApiClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tug-scheduler-test-"));
    const [clientPort, peerPort, metricsPort, healthPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    apiPort = await freePort();
    store = startBinary("packages/store/bin/tug-store.ts", [
      "--name=s1",
      `--data-dir=${join(dataDir, "s1")}`,
      `--listen-client-urls=http://127.0.0.1:${clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--listen-metrics-urls=http://127.0.0.1:${metricsPort}`,
      "--log-level=warn",
    ]);
    apiserver = startBinary("packages/apiserver/bin/tug-apiserver.ts", [
      `--etcd-servers=http://127.0.0.1:${clientPort}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--health-port=${healthPort}`,
      "--etcd-compaction-interval=0",
      "--log-level=warn",
    ]);
    await until(
      "tug-apiserver /readyz",
      async () =>
        (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined,
      START_TIMEOUT_MS,
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}\nstore:\n${store?.output()}\napiserver:\n${apiserver?.output()}`,
      );
    });
    client = new ApiClient({ servers: [`127.0.0.1:${apiPort}`] });
    // What the ServiceAccount controller would do: pods need their namespace's default account.
    await client.create(
      ServiceAccountSchema,
      create(ServiceAccountSchema, { metadata: { name: "default", namespace: "default" } }),
    );
  }, START_TIMEOUT_MS * 2);

  afterAll(async () => {
    client?.close();
    await stopBinary(apiserver);
    await stopBinary(store);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("leads, binds what fits, explains what does not, and retries it when a node joins", async () => {
    for (const [name, cpu] of [
      ["n1", "2"],
      ["n2", "2"],
      ["n3", "4"],
    ] as const) {
      await client.create(NodeSchema, node(name, cpu));
    }
    const healthPort = await freePort();
    const logs: string[] = [];
    let running: RunningScheduler | undefined;
    let exitCode: number | undefined;
    const exited = runTugScheduler({
      argv: [
        `--master=127.0.0.1:${apiPort}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${healthPort}`,
        "--log-level=debug",
      ],
      env: {},
      stdout: (s) => logs.push(s),
      stderr: (s) => logs.push(s),
      onStarted: (r) => {
        running = r;
      },
    });
    try {
      await client.create(PodSchema, pod("small", "1"));
      await client.create(PodSchema, pod("huge", "6"));
      const bound = await until("small to be bound", async () => {
        const p = await client.get(PodSchema, "small", { namespace: "default" });
        return p.spec?.nodeName === "" ? undefined : p.spec?.nodeName;
      });
      expect(["n1", "n2", "n3"]).toContain(bound);
      // LeastAllocated: the 4-cpu node has the most room.
      expect(bound).toBe("n3");
      const failed = await until("a FailedScheduling event for huge", async () => {
        const events = await client.list(EventSchema, { namespace: "default" });
        return events.items.find(
          (e) => e.reason === "FailedScheduling" && e.involvedObject?.name === "huge",
        );
      });
      expect(failed.message).toBe("0/3 nodes are available: 3 Insufficient cpu.");
      expect(failed.type).toBe("Warning");
      const condition = await until("huge marked PodScheduled=False", async () => {
        const p = await client.get(PodSchema, "huge", { namespace: "default" });
        return p.status?.conditions.find((c) => c.type === "PodScheduled");
      });
      expect(condition).toMatchObject({
        status: "False",
        reason: "Unschedulable",
        message: "0/3 nodes are available: 3 Insufficient cpu.",
      });
      const lease = await client.get(LeaseSchema, "kube-scheduler", { namespace: "kube-system" });
      expect(lease.spec?.holderIdentity).toMatch(/_/);
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      expect(metrics).toContain('leader_election_master_status{name="kube-scheduler"} 1');
      // One list and one watch per informer so far; the pod watch has delivered events.
      expect(metrics).toContain('scheduler_informer_lists_total{resource="pods"} 1');
      expect(metrics).toContain('scheduler_informer_watches_total{resource="nodes"} 1');
      expect(metrics).toMatch(/scheduler_informer_watch_events_total\{resource="pods"\} [1-9]/);
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

      await client.create(NodeSchema, node("big", "8"));
      const hugeNode = await until("huge to be bound after a node joined", async () => {
        const p = await client.get(PodSchema, "huge", { namespace: "default" });
        return p.spec?.nodeName === "" ? undefined : p.spec?.nodeName;
      });
      expect(hugeNode).toBe("big");
      const scheduled = await until("a Scheduled event for huge", async () => {
        const events = await client.list(EventSchema, { namespace: "default" });
        return events.items.find(
          (e) => e.reason === "Scheduled" && e.involvedObject?.name === "huge",
        );
      });
      expect(scheduled.message).toBe("Successfully assigned default/huge to big");
    } finally {
      running?.stop("test done");
      exitCode = await exited;
    }
    expect(exitCode, logs.join("")).toBe(0);
  }, 120_000);

  it("hands over to a standby when the leader stops", async () => {
    const start = (name: string) => {
      const logs: string[] = [];
      let running: RunningScheduler | undefined;
      const exited = runTugScheduler({
        argv: [
          `--master=127.0.0.1:${apiPort}`,
          "--secure-port=0",
          "--leader-elect-lease-duration=3s",
          "--leader-elect-renew-deadline=2s",
          "--leader-elect-retry-period=500ms",
          "--leader-elect-resource-name=handover",
        ],
        env: {},
        stdout: (s) => logs.push(s),
        stderr: (s) => logs.push(s),
        onStarted: (r) => {
          running = r;
        },
      });
      return { name, logs, exited, running: () => running };
    };
    const a = start("a");
    await until("a to lead", async () => (a.running()?.current() !== undefined ? true : undefined));
    const b = start("b");
    try {
      await client.create(PodSchema, pod("before-handover", "100m"));
      await until("before-handover to be bound", async () => {
        const p = await client.get(PodSchema, "before-handover", { namespace: "default" });
        return p.spec?.nodeName === "" ? undefined : true;
      });
      // b stands by: it has no scheduler while a holds the lease.
      expect(b.running()?.current()).toBeUndefined();
      a.running()?.stop("handing over");
      expect(await a.exited).toBe(0);
      await client.create(PodSchema, pod("after-handover", "100m"));
      await until("after-handover to be bound by b", async () => {
        const p = await client.get(PodSchema, "after-handover", { namespace: "default" });
        return p.spec?.nodeName === "" ? undefined : true;
      });
      expect(b.running()?.current()).toBeDefined();
      expect(b.logs.join("")).toContain('"msg":"became leader"');
    } finally {
      a.running()?.stop("test done");
      b.running()?.stop("test done");
      await a.exited;
      await b.exited;
    }
  }, 120_000);

  it("exits 2 naming the problem for a bad setting", async () => {
    const err: string[] = [];
    const code = await runTugScheduler({
      argv: ["--master=x:1", "--leader-elect=maybe"],
      env: {},
      stderr: (s) => err.push(s),
    });
    expect(code).toBe(2);
    expect(err.join("")).toContain('--leader-elect "maybe" is not a boolean; give true or false');
  });
});
