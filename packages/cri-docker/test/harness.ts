// Starts tug-cri-docker on a temporary socket against the real Docker engine, with a client,
// and removes every container a test file made (all carry a label unique to the run), even
// when tests fail. Fails (never skips) when the engine or the local images are missing.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import Docker from "dockerode";
import { CriClient, CriServer, cri } from "../src/index.js";

export const BUSYBOX = "tug/busybox:latest";
export const PAUSE = "tug/pause:latest";
/** The label every container of this run carries. */
export const RUN_LABEL = "io.tug.test.run";

export interface Harness {
  server: CriServer;
  client: CriClient;
  docker: Docker;
  dir: string;
  runId: string;
  /** Labels to put on every sandbox and container config. */
  labels: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The Docker engine on /var/run/docker.sock, once it answers and holds the test images; throws
 * naming the script to run when it does not.
 */
export async function requireDocker(): Promise<Docker> {
  const docker = new Docker({ socketPath: "/var/run/docker.sock" });
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `no Docker engine answers on /var/run/docker.sock; run scripts/setup-docker.sh (${String(e)})`,
    );
  }
  for (const image of [BUSYBOX, PAUSE]) {
    await docker
      .getImage(image)
      .inspect()
      .catch(() => {
        throw new Error(`image ${image} is missing; run scripts/build-images.sh`);
      });
  }
  return docker;
}

export async function startHarness(): Promise<Harness> {
  const docker = await requireDocker();
  const dir = mkdtempSync(join(tmpdir(), "tug-cri-test-"));
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const server = await CriServer.start({
    socketPath: join(dir, "run", "cri.sock"),
    docker,
    pauseImage: PAUSE,
    // Its own instance: test files run in parallel, each with its own server on one engine.
    instance: `test-${runId}`,
    // Shown with the test that was running (vitest prints a test's stderr), so that a test
    // waiting in vain for a log copy or a resumed log says what the engine answered.
    onBackgroundError: (what, e) => {
      process.stderr.write(
        `cri-docker background error: ${what}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
    },
  });
  const client = new CriClient(server.socketPath);
  const labels = { [RUN_LABEL]: runId };
  return {
    server,
    client,
    docker,
    dir,
    runId,
    labels,
    async close() {
      try {
        client.close();
        // Bounded: a hung stop must not keep the containers below from being removed.
        await Promise.race([
          server.stop(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error("CriServer.stop took over 15 s")), 15_000),
          ),
        ]);
      } finally {
        const left = await docker.listContainers({
          all: true,
          filters: { label: [`${RUN_LABEL}=${runId}`] },
        });
        await Promise.all(
          left.map((c) =>
            docker
              .getContainer(c.Id)
              .remove({ force: true })
              .catch(() => undefined),
          ),
        );
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let podCounter = 0;

/** A PodSandboxConfig for a fresh pod of this run. */
export function podConfig(h: Harness, name = `pod${++podCounter}`): cri.PodSandboxConfig {
  const uid = `${h.runId}-${name}`;
  return create(cri.PodSandboxConfigSchema, {
    metadata: { name, namespace: "default", uid, attempt: 0 },
    hostname: name,
    logDirectory: join(h.dir, "pods", `default_${name}_${uid}`),
    dnsConfig: {
      servers: ["10.96.0.10"],
      searches: ["default.svc.cluster.local"],
      options: ["ndots:5"],
    },
    labels: { ...h.labels, app: name },
    annotations: { "tug.io/note": `sandbox ${name}` },
  });
}

/** Polls `check` every 100 ms until it returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
