// tug-controller-manager as a real process against an in-process API server: it leads, serves
// /healthz /readyz /metrics, rolls a Deployment out, and exits 0 on SIGTERM.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { DeploymentSchema } from "@tug/api";
import { afterEach, expect, it } from "vitest";
import {
  type Cluster,
  eventually,
  type FakeKubelet,
  startCluster,
  startFakeKubelet,
} from "../support/cluster.js";
import { deployment } from "../support/workloads.js";

const BIN = fileURLToPath(new URL("../../bin/tug-controller-manager.ts", import.meta.url));
/** A cold tsx start takes a few seconds on a busy 2-core machine. */
const START_TIMEOUT_MS = 60_000;

/** A port nothing listens on right now (the health port 0 means "off", as in Kubernetes). */
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

let cluster: Cluster | undefined;
let kubelet: FakeKubelet | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child?.once("exit", r));
    child.kill("SIGKILL");
    await gone;
  }
  child = undefined;
  await kubelet?.stop();
  await cluster?.stop();
});

it("runs, leads, serves health and metrics, reconciles, and exits 0 on SIGTERM", async () => {
  cluster = await startCluster();
  kubelet = await startFakeKubelet(cluster.address);
  const healthPort = await freePort();
  const proc = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      BIN,
      "--master",
      cluster.address,
      "--secure-port",
      String(healthPort),
      "--bind-address",
      "127.0.0.1",
      // Short enough for a quick start, long enough that a loaded machine does not lose the lease.
      "--leader-elect-lease-duration=6s",
      "--leader-elect-renew-deadline=4s",
      "--leader-elect-retry-period=500ms",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child = proc;
  const lines: Record<string, unknown>[] = [];
  let partial = "";
  proc.stderr?.on("data", (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
  });
  await eventually(
    "the starting log line",
    () => lines.some((l) => l.msg === "starting"),
    START_TIMEOUT_MS,
  );
  const port = lines.find((l) => l.msg === "starting")?.healthPort as number;
  expect(port).toBe(healthPort);
  const base = `http://127.0.0.1:${port}`;
  expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok");
  await eventually("leading", () => lines.some((l) => l.msg === "started leading"), 15_000);
  await eventually("ready", async () => (await fetch(`${base}/readyz`)).status === 200, 15_000);

  await cluster.client.create(DeploymentSchema, deployment("proc"));
  try {
    await eventually(
      "rolled out",
      async () => {
        const d = await cluster?.client.get(DeploymentSchema, "proc", { namespace: "default" });
        return d?.status?.availableReplicas === 3 && d.status.updatedReplicas === 3;
      },
      START_TIMEOUT_MS,
    );
  } catch (e) {
    throw new Error(`${String(e)}; process log tail: ${JSON.stringify(lines.slice(-15))}`);
  }
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toContain('leader_election_master_status{name="kube-controller-manager"} 1');
  expect(metrics).toMatch(/tug_controller_reconciles_total\{controller="deployment"\} [1-9]/);

  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  proc.kill("SIGTERM");
  expect(await exited).toBe(0);
});
