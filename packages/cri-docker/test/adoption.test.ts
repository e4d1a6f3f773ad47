// A restarted runtime adopts what exists: it lists the sandboxes and containers made before
// it started (from their Docker labels alone) and resumes copying a running container's log
// after the last entry already written: every line once, in order.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriClient, CriServer } from "../src/index.js";
import { BUSYBOX, eventually, type Harness, PAUSE, podConfig, startHarness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

describe("restart", () => {
  it("adopts sandboxes and containers and resumes their logs without loss or duplicates", async () => {
    const socketPath = join(h.dir, "adopt.sock");
    const options = {
      socketPath,
      docker: h.docker,
      pauseImage: PAUSE,
      instance: `adopt-${h.runId}`,
    };
    const first = await CriServer.start(options);
    const c1 = new CriClient(socketPath);
    const config = podConfig(h, "adopt");
    let podSandboxId: string;
    let containerId: string;
    let quickId: string;
    try {
      podSandboxId = (await c1.runtime.runPodSandbox({ config })).podSandboxId;
      containerId = (
        await c1.runtime.createContainer({
          podSandboxId,
          sandboxConfig: config,
          config: {
            metadata: { name: "counter" },
            image: { image: BUSYBOX },
            command: [
              "sh",
              "-c",
              "i=0; while [ $i -lt 30 ]; do echo line$i; i=$((i+1)); sleep 0.1; done; sleep 300",
            ],
            labels: h.labels,
            logPath: "counter/0.log",
          },
        })
      ).containerId;
      await c1.runtime.startContainer({ containerId });
      // This one ends while no runtime runs: its last line is copied by the next runtime.
      quickId = (
        await c1.runtime.createContainer({
          podSandboxId,
          sandboxConfig: config,
          config: {
            metadata: { name: "quick" },
            image: { image: BUSYBOX },
            command: [
              "sh",
              "-c",
              "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo last",
            ],
            labels: h.labels,
            logPath: "quick/0.log",
          },
        })
      ).containerId;
      await c1.runtime.startContainer({ containerId: quickId });
      const path = join(config.logDirectory, "counter/0.log");
      const quickPath = join(config.logDirectory, "quick/0.log");
      await eventually("the first lines", async () =>
        read(path).includes("line3\n") && read(quickPath).includes("first\n") ? true : undefined,
      );
    } finally {
      c1.close();
      await first.stop();
    }
    // No runtime runs now: let "quick" finish, through the engine directly.
    const go = await h.docker.getContainer(quickId).exec({ Cmd: ["touch", "/tmp/go"] });
    await go.start({ hijack: true, stdin: false });
    await eventually("quick to exit", async () =>
      (await h.docker.getContainer(quickId).inspect()).State.Running ? undefined : true,
    );
    const second = await CriServer.start(options);
    const c2 = new CriClient(socketPath);
    try {
      const sandboxes = await c2.runtime.listPodSandbox({ filter: { labelSelector: h.labels } });
      expect(sandboxes.items.map((s) => s.id)).toEqual([podSandboxId]);
      const containers = await c2.runtime.listContainers({ filter: { podSandboxId } });
      expect(containers.containers.map((c) => `${c.metadata?.name} ${c.id}`).sort()).toEqual(
        [`counter ${containerId}`, `quick ${quickId}`].sort(),
      );
      const quickPath = join(config.logDirectory, "quick/0.log");
      await eventually("quick's last line", async () =>
        read(quickPath).includes("last\n") ? true : undefined,
      );
      expect(
        read(quickPath)
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.split(" ").slice(1).join(" ")),
      ).toEqual(["stdout F first", "stdout F last"]);
      const path = join(config.logDirectory, "counter/0.log");
      await eventually("the last line", async () =>
        read(path).includes("line29\n") ? true : undefined,
      );
      const lines = read(path)
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split(" ").slice(1).join(" "));
      expect(lines).toEqual(Array.from({ length: 30 }, (_, i) => `stdout F line${i}`));
    } finally {
      c2.close();
      await second.stop();
    }
  });
});
