// Pod sandboxes against the real Docker engine: lifecycle, status, list filters, idempotent
// stop and remove, names and labels as DESIGN.md fixes them, and the socket rules.

import { existsSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriClient, CriError, CriServer, cri } from "../src/index.js";
import { runTugCriDocker } from "../src/main.js";
import { type Harness, podConfig, startHarness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function rejection(p: Promise<unknown>): Promise<CriError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CriError) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

describe("runtime", () => {
  it("reports its version and the RuntimeReady and NetworkReady conditions", async () => {
    const v = await h.client.runtime.version({ version: "v1" });
    expect(v.runtimeName).toBe("docker");
    expect(v.runtimeApiVersion).toBe("v1");
    expect(v.runtimeVersion).toMatch(/^\d+\.\d+/);
    const s = await h.client.runtime.status({});
    const conditions = Object.fromEntries(
      (s.status?.conditions ?? []).map((c) => [c.type, c.status]),
    );
    expect(conditions).toEqual({ RuntimeReady: true, NetworkReady: true });
  });

  it("refuses a socket a live server answers on, and replaces a stale one", async () => {
    await expect(
      CriServer.start({ socketPath: h.server.socketPath, docker: h.docker }),
    ).rejects.toThrow(/in use by a running server/);
    const stale = join(h.dir, "stale.sock");
    writeFileSync(stale, "");
    const second = await CriServer.start({
      socketPath: stale,
      docker: h.docker,
      instance: `stale-${h.runId}`,
    });
    await second.stop();
  });
});

describe("tug-cri-docker process", () => {
  it("serves on --listen (and health and metrics) until stopped, then removes its socket", async () => {
    const socket = join(h.dir, "proc", "cri.sock");
    let logs = "";
    const stop = new AbortController();
    const exited = runTugCriDocker({
      argv: [
        "--listen",
        socket,
        "--pause-image",
        "tug/pause:latest",
        "--instance",
        `proc-${h.runId}`,
        "--metrics-address",
        "127.0.0.1:0",
      ],
      env: {},
      stderr: (line) => {
        logs += line;
      },
      signal: stop.signal,
    });
    const client = new CriClient(socket);
    try {
      await client.waitForReady(20_000);
      expect((await client.runtime.version({})).runtimeName).toBe("docker");
      expect(statSync(socket).mode & 0o777).toBe(0o660);
      // The log line of the health server names its address; the engine answers, so ready.
      const served = logs.split("\n").find((l) => l.includes('"msg":"serving health and metrics"'));
      const base = (JSON.parse(served ?? "{}") as { address?: string }).address;
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok");
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain(
        'tug_cri_requests_total{method="Version",code="0"} 1',
      );
    } finally {
      client.close();
      stop.abort();
    }
    expect(await exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it("exits 2 with the flag named for a bad flag value", async () => {
    let err = "";
    const code = await runTugCriDocker({
      argv: ["--streaming-address", "nope"],
      env: {},
      stderr: (s) => {
        err += s;
      },
    });
    expect(code).toBe(2);
    expect(err).toContain('--streaming-address "nope" is not host:port');
  });
});

describe("pod sandbox", () => {
  it("runs a pause container named and labelled for adoption, reports it, stops and removes it", async () => {
    const config = podConfig(h, "life");
    const hostPort = await freePort();
    config.portMappings = [
      create(cri.PortMappingSchema, { containerPort: 8080, hostPort, hostIp: "127.0.0.1" }),
      create(cri.PortMappingSchema, { containerPort: 53, protocol: cri.Protocol.UDP }),
    ];
    const { podSandboxId: id } = await h.client.runtime.runPodSandbox({ config });
    const info = await h.docker.getContainer(id).inspect();
    expect(info.Name).toBe(`/tug_POD_life_default_${config.metadata?.uid}_0`);
    expect(info.Config.Image).toBe("tug/pause:latest");
    expect(info.Config.Labels).toMatchObject({
      "io.tug.cri.type": "podsandbox",
      "io.tug.cri.pod.name": "life",
      "io.tug.cri.pod.namespace": "default",
      "io.tug.cri.pod.uid": config.metadata?.uid,
    });
    expect(info.HostConfig.Dns).toEqual(["10.96.0.10"]);
    expect(info.HostConfig.DnsOptions).toEqual(["ndots:5"]);
    expect(info.Config.Hostname).toBe("life");
    expect(info.HostConfig.PortBindings).toEqual({
      "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }],
    });
    expect(Object.keys(info.Config.ExposedPorts).sort()).toEqual(["53/udp", "8080/tcp"]);

    const st = (await h.client.runtime.podSandboxStatus({ podSandboxId: id })).status;
    expect(st?.state).toBe(cri.PodSandboxState.SANDBOX_READY);
    expect(st?.network?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(st?.createdAt).toBeGreaterThan(1_600_000_000_000_000_000n);
    expect(st?.metadata).toMatchObject({
      name: "life",
      namespace: "default",
      uid: config.metadata?.uid,
    });
    expect(st?.labels).toEqual(config.labels);
    expect(st?.annotations).toEqual(config.annotations);

    await h.client.runtime.stopPodSandbox({ podSandboxId: id });
    const stopped = (await h.client.runtime.podSandboxStatus({ podSandboxId: id })).status;
    expect(stopped?.state).toBe(cri.PodSandboxState.SANDBOX_NOTREADY);
    await h.client.runtime.stopPodSandbox({ podSandboxId: id }); // idempotent
    await h.client.runtime.removePodSandbox({ podSandboxId: id });
    await h.client.runtime.removePodSandbox({ podSandboxId: id }); // idempotent
    await h.client.runtime.stopPodSandbox({ podSandboxId: id }); // a missing sandbox is stopped
    const gone = await rejection(h.client.runtime.podSandboxStatus({ podSandboxId: id }));
    expect(gone.code).toBe(status.NOT_FOUND);
  });

  it("adopts a running sandbox of the same pod and attempt instead of making a second", async () => {
    const config = podConfig(h, "again");
    const first = await h.client.runtime.runPodSandbox({ config });
    const second = await h.client.runtime.runPodSandbox({ config });
    expect(second.podSandboxId).toBe(first.podSandboxId);
  });

  it("lists sandboxes by id, state and label selector", async () => {
    const a = await h.client.runtime.runPodSandbox({ config: podConfig(h, "lista") });
    const b = await h.client.runtime.runPodSandbox({ config: podConfig(h, "listb") });
    await h.client.runtime.stopPodSandbox({ podSandboxId: b.podSandboxId });
    const run = { labelSelector: h.labels };
    const ids = async (filter: Parameters<typeof h.client.runtime.listPodSandbox>[0]) =>
      ((await h.client.runtime.listPodSandbox(filter)).items ?? []).map((i) => i.id).sort();

    const all = await ids({ filter: run });
    expect(all).toEqual(expect.arrayContaining([a.podSandboxId, b.podSandboxId]));
    expect(await ids({ filter: { id: a.podSandboxId } })).toEqual([a.podSandboxId]);
    expect(await ids({ filter: { ...run, labelSelector: { ...h.labels, app: "listb" } } })).toEqual(
      [b.podSandboxId],
    );
    const ready = await ids({
      filter: { ...run, state: { state: cri.PodSandboxState.SANDBOX_READY } },
    });
    expect(ready).toContain(a.podSandboxId);
    expect(ready).not.toContain(b.podSandboxId);
    const notReady = await ids({
      filter: { ...run, state: { state: cri.PodSandboxState.SANDBOX_NOTREADY } },
    });
    expect(notReady).toContain(b.podSandboxId);
    expect(notReady).not.toContain(a.podSandboxId);
    const item = (await h.client.runtime.listPodSandbox({ filter: { id: a.podSandboxId } }))
      .items[0];
    expect(item?.metadata?.name).toBe("lista");
    expect(item?.annotations).toEqual({ "tug.io/note": "sandbox lista" });
  });

  it("keeps runtime instances sharing the engine apart", async () => {
    const { podSandboxId } = await h.client.runtime.runPodSandbox({ config: podConfig(h, "mine") });
    const other = await CriServer.start({
      socketPath: join(h.dir, "other.sock"),
      docker: h.docker,
      instance: `other-${h.runId}`,
    });
    const client = new CriClient(other.socketPath);
    try {
      const seen = await client.runtime.listPodSandbox({ filter: { labelSelector: h.labels } });
      expect(seen.items).toEqual([]);
      const e = await rejection(client.runtime.podSandboxStatus({ podSandboxId }));
      expect(e.code).toBe(status.NOT_FOUND);
    } finally {
      client.close();
      await other.stop();
    }
  });

  it("rejects a config without pod metadata, naming the field", async () => {
    const config = podConfig(h, "bad");
    config.metadata = undefined;
    const e = await rejection(h.client.runtime.runPodSandbox({ config }));
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.message).toContain("config.metadata.name");
  });
});
