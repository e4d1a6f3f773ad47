// App containers in a sandbox against the real Docker engine: a busybox httpd reachable on the
// sandbox IP, exit codes and reasons (Completed, Error, OOMKilled), logs in CRI format at the
// CRI path, ExecSync, Exec streaming, stats, list filters, idempotent stop and remove.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriError, cri } from "../src/index.js";
import { BUSYBOX, eventually, type Harness, podConfig, startHarness } from "./harness.js";

let h: Harness;
let sandboxId: string;
let sandboxConfig: cri.PodSandboxConfig;
let sandboxIp: string;

beforeAll(async () => {
  h = await startHarness();
  sandboxConfig = podConfig(h, "web");
  sandboxId = (await h.client.runtime.runPodSandbox({ config: sandboxConfig })).podSandboxId;
  sandboxIp =
    (await h.client.runtime.podSandboxStatus({ podSandboxId: sandboxId })).status?.network?.ip ??
    "";
});
afterAll(async () => {
  await h?.close();
});

interface ExtraConfig {
  envs?: MessageInitShape<typeof cri.KeyValueSchema>[];
  mounts?: MessageInitShape<typeof cri.MountSchema>[];
  linux?: MessageInitShape<typeof cri.LinuxContainerConfigSchema>;
}

/** Creates and starts a busybox container in the test sandbox. */
async function run(name: string, command: string[], extra: ExtraConfig = {}): Promise<string> {
  const { containerId } = await h.client.runtime.createContainer({
    podSandboxId: sandboxId,
    sandboxConfig,
    config: {
      metadata: { name, attempt: 0 },
      image: { image: BUSYBOX },
      command,
      labels: { ...h.labels, container: name },
      annotations: { "tug.io/container": name },
      logPath: `${name}/0.log`,
      ...extra,
    },
  });
  await h.client.runtime.startContainer({ containerId });
  return containerId;
}

async function exited(id: string): Promise<cri.ContainerStatus> {
  return eventually(`container ${id} to exit`, async () => {
    const s = (await h.client.runtime.containerStatus({ containerId: id })).status;
    return s?.state === cri.ContainerState.CONTAINER_EXITED ? s : undefined;
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}

describe("containers", () => {
  it("serves httpd on the sandbox IP from a read-only host mount, with status, exec and stats", async () => {
    const www = join(h.dir, "www");
    mkdirSync(www);
    writeFileSync(join(www, "index.html"), "hello from tug\n");
    const id = await run("httpd", ["httpd", "-f", "-p", "8080", "-h", "/www"], {
      envs: [{ key: "GREETING", value: "hi there" }],
      mounts: [{ containerPath: "/www", hostPath: www, readonly: true }],
      linux: { resources: { cpuShares: 512n, memoryLimitInBytes: 64n * 1024n * 1024n } },
    });
    const body = await eventually("httpd to answer", () =>
      httpGet(`http://${sandboxIp}:8080/`).catch(() => undefined),
    );
    expect(body).toBe("hello from tug\n");

    const st = (await h.client.runtime.containerStatus({ containerId: id })).status;
    expect(st?.state).toBe(cri.ContainerState.CONTAINER_RUNNING);
    expect(st?.metadata).toMatchObject({ name: "httpd", attempt: 0 });
    expect(st?.startedAt).toBeGreaterThanOrEqual(st?.createdAt ?? 0n);
    expect(st?.image?.image).toBe(BUSYBOX);
    expect(st?.imageRef).toMatch(/^sha256:/);
    expect(st?.labels).toEqual({ ...h.labels, container: "httpd" });
    expect(st?.annotations).toEqual({ "tug.io/container": "httpd" });
    expect(st?.mounts).toMatchObject([{ containerPath: "/www", hostPath: www, readonly: true }]);
    expect(st?.logPath).toBe(join(sandboxConfig.logDirectory, "httpd/0.log"));
    expect(st?.resources?.linux?.memoryLimitInBytes).toBe(64n * 1024n * 1024n);
    const docker = await h.docker.getContainer(id).inspect();
    expect(docker.Name).toBe(`/tug_httpd_web_default_${sandboxConfig.metadata?.uid}_0`);
    expect(docker.HostConfig.NetworkMode).toBe(`container:${sandboxId}`);

    const out = await h.client.runtime.execSync({
      containerId: id,
      cmd: ["sh", "-c", 'echo "$GREETING"; hostname; echo oops >&2; touch /www/x; exit 3'],
    });
    expect(Buffer.from(out.stdout).toString()).toBe("hi there\nweb\n");
    expect(Buffer.from(out.stderr).toString()).toMatch(/^oops\n.*Read-only file system/s);
    expect(out.exitCode).toBe(3);

    const slow = await h.client.runtime
      .execSync({ containerId: id, cmd: ["sleep", "30"], timeout: 1n })
      .catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(CriError);
    expect((slow as CriError).code).toBe(status.DEADLINE_EXCEEDED);

    const stats = (await h.client.runtime.containerStats({ containerId: id })).stats;
    expect(stats?.attributes?.id).toBe(id);
    expect(stats?.cpu?.usageCoreNanoSeconds?.value).toBeGreaterThan(0n);
    expect(stats?.memory?.workingSetBytes?.value).toBeGreaterThan(0n);
    const listed = await h.client.runtime.listContainerStats({
      filter: { podSandboxId: sandboxId },
    });
    expect(listed.stats.map((s) => s.attributes?.id)).toContain(id);

    await h.client.runtime.updateContainerResources({
      containerId: id,
      linux: { memoryLimitInBytes: 96n * 1024n * 1024n },
    });
    const updated = await h.docker.getContainer(id).inspect();
    expect(updated.HostConfig.Memory).toBe(96 * 1024 * 1024);

    await h.client.runtime.stopContainer({ containerId: id, timeout: 1n });
    const stopped = await exited(id);
    expect(stopped.finishedAt).toBeGreaterThan(stopped.startedAt);
    await h.client.runtime.stopContainer({ containerId: id, timeout: 1n }); // idempotent
    await h.client.runtime.removeContainer({ containerId: id });
    await h.client.runtime.removeContainer({ containerId: id }); // idempotent
    const gone = await h.client.runtime
      .containerStatus({ containerId: id })
      .catch((e: unknown) => e);
    expect((gone as CriError).code).toBe(status.NOT_FOUND);
  });

  it("reports exit codes and reasons: Completed, Error, OOMKilled", async () => {
    const [ok, fail, oom] = await Promise.all([
      run("ok", ["sh", "-c", "exit 0"]),
      run("fail", ["sh", "-c", "echo bad >&2; exit 1"]),
      run("oom", ["sh", "-c", 'x=$(head -c 50m /dev/zero | tr "\\0" a); echo survived'], {
        linux: { resources: { memoryLimitInBytes: 8n * 1024n * 1024n } },
      }),
    ]);
    const [sOk, sFail, sOom] = await Promise.all([exited(ok), exited(fail), exited(oom)]);
    expect([sOk.exitCode, sOk.reason]).toEqual([0, "Completed"]);
    expect([sFail.exitCode, sFail.reason]).toEqual([1, "Error"]);
    expect(sOom.reason).toBe("OOMKilled");
    expect(sOom.exitCode).toBe(137);
  });

  it("writes the container's output in CRI log format at the CRI path", async () => {
    const id = await run("logs", [
      "sh",
      "-c",
      "echo hello; echo oops >&2; echo; printf 'no newline'",
    ]);
    await exited(id);
    const path = join(sandboxConfig.logDirectory, "logs/0.log");
    const lines = await eventually("4 log lines", async () => {
      let text = "";
      try {
        text = readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
      const l = text.split("\n").filter((x) => x !== "");
      return l.length >= 4 ? l : undefined;
    });
    const ts = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{9}Z";
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.includes("stdout F hello"))).toMatch(
      new RegExp(`^${ts} stdout F hello$`),
    );
    expect(lines.find((l) => l.includes("stderr"))).toMatch(new RegExp(`^${ts} stderr F oops$`));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${ts} stdout F $`)));
    // The last line has no newline: it ends the output, so it is a full line, not a partial.
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^${ts} stdout F no newline$`));
  });

  it("reopens the log file after rotation (ReopenContainerLog)", async () => {
    const id = await run("rotate", [
      "sh",
      "-c",
      "echo one; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo two; sleep 300",
    ]);
    const path = join(sandboxConfig.logDirectory, "rotate/0.log");
    const read = (p: string) => {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return "";
      }
    };
    await eventually("the first line", async () =>
      read(path).includes("stdout F one") ? true : undefined,
    );
    renameSync(path, `${path}.1`);
    await h.client.runtime.reopenContainerLog({ containerId: id });
    await h.client.runtime.execSync({ containerId: id, cmd: ["touch", "/tmp/go"] });
    await eventually("the second line in the new file", async () =>
      read(path).includes("stdout F two") ? true : undefined,
    );
    expect(read(`${path}.1`)).not.toContain("two");
    await h.client.runtime.stopContainer({ containerId: id, timeout: 0n });
    const refused = await h.client.runtime
      .reopenContainerLog({ containerId: id })
      .catch((e: unknown) => e);
    expect((refused as CriError).code).toBe(status.FAILED_PRECONDITION);
  });

  it("streams Exec over the upgraded connection with stdin, stdout, stderr and the exit code", async () => {
    const id = await run("exec", ["sleep", "300"]);
    const { url } = await h.client.runtime.exec({
      containerId: id,
      cmd: ["sh", "-c", "read x; echo got $x; echo err >&2; exit 4"],
      stdin: true,
      stdout: true,
      stderr: true,
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[0-9a-f]+$/);
    const frames = await execStream(url, Buffer.from("ping\n"));
    expect(frames.stdout).toBe("got ping\n");
    expect(frames.stderr).toBe("err\n");
    expect(frames.exit).toEqual({ exitCode: 4 });
    // A URL is good for one use only.
    await expect(execStream(url, Buffer.alloc(0))).rejects.toThrow(/404/);
    // With a TTY, all output is one stream, with the terminal's line endings.
    const tty = await h.client.runtime.exec({
      containerId: id,
      cmd: ["sh", "-c", "tty; echo hi"],
      tty: true,
      stdout: true,
    });
    const ttyOut = await execStream(tty.url, Buffer.alloc(0));
    expect(ttyOut.stdout).toMatch(/^\/dev\/pts\/\d+\r\nhi\r\n$/);
    expect(ttyOut.exit).toEqual({ exitCode: 0 });
    const bad = await h.client.runtime
      .exec({ containerId: id, cmd: ["true"], tty: true, stdout: true, stderr: true })
      .catch((e: unknown) => e);
    expect((bad as CriError).code).toBe(status.INVALID_ARGUMENT);
  });

  it("lists containers by sandbox, state and label selector", async () => {
    const running = await run("lister", ["sleep", "300"]);
    const { containerId: created } = await h.client.runtime.createContainer({
      podSandboxId: sandboxId,
      sandboxConfig,
      config: {
        metadata: { name: "idle" },
        image: { image: BUSYBOX },
        command: ["true"],
        labels: { ...h.labels, container: "idle" },
      },
    });
    const ids = async (filter: MessageInitShape<typeof cri.ContainerFilterSchema>) =>
      (await h.client.runtime.listContainers({ filter })).containers.map((c) => c.id);
    expect(await ids({ podSandboxId: sandboxId })).toEqual(
      expect.arrayContaining([running, created]),
    );
    expect(await ids({ id: running })).toEqual([running]);
    expect(await ids({ labelSelector: { ...h.labels, container: "idle" } })).toEqual([created]);
    const createdState = await ids({
      podSandboxId: sandboxId,
      state: { state: cri.ContainerState.CONTAINER_CREATED },
    });
    expect(createdState).toEqual([created]);
    const listed = (await h.client.runtime.listContainers({ filter: { id: running } }))
      .containers[0];
    expect(listed).toMatchObject({
      podSandboxId: sandboxId,
      metadata: { name: "lister", attempt: 0 },
      state: cri.ContainerState.CONTAINER_RUNNING,
      labels: { ...h.labels, container: "lister" },
    });
  });

  it("refuses a container whose image is absent or whose sandbox is unknown, saying why", async () => {
    const noImage = await h.client.runtime
      .createContainer({
        podSandboxId: sandboxId,
        sandboxConfig,
        config: { metadata: { name: "ghost" }, image: { image: "tug/absent:1" }, labels: h.labels },
      })
      .catch((e: unknown) => e);
    expect((noImage as CriError).code).toBe(status.NOT_FOUND);
    expect((noImage as CriError).message).toContain('image "tug/absent:1" is not present');
    const noSandbox = await h.client.runtime
      .createContainer({
        podSandboxId: "0123456789ab",
        config: { metadata: { name: "ghost" }, image: { image: BUSYBOX }, labels: h.labels },
      })
      .catch((e: unknown) => e);
    expect((noSandbox as CriError).code).toBe(status.NOT_FOUND);
    expect((noSandbox as CriError).message).toContain('pod sandbox "0123456789ab" not found');
  });

  it("removing the sandbox removes its containers", async () => {
    const config = podConfig(h, "doomed");
    const { podSandboxId } = await h.client.runtime.runPodSandbox({ config });
    const { containerId } = await h.client.runtime.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: "c" },
        image: { image: BUSYBOX },
        command: ["sleep", "300"],
        labels: h.labels,
      },
    });
    await h.client.runtime.startContainer({ containerId });
    await h.client.runtime.stopPodSandbox({ podSandboxId });
    expect((await h.client.runtime.containerStatus({ containerId })).status?.state).toBe(
      cri.ContainerState.CONTAINER_EXITED,
    );
    await h.client.runtime.removePodSandbox({ podSandboxId });
    expect(await h.client.runtime.listContainers({ filter: { podSandboxId } })).toMatchObject({
      containers: [],
    });
  });
});

/** Runs one exec over tug-exec.v1: sends `stdin` then closes it; collects the frames. */
function execStream(
  url: string,
  stdin: Buffer,
): Promise<{ stdout: string; stderr: string; exit: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Connection: "Upgrade", Upgrade: "tug-exec.v1" } });
    req.on("response", (res) => reject(new Error(`exec answered HTTP ${res.statusCode}`)));
    req.on("error", reject);
    req.on("upgrade", (_res, socket, head) => {
      const frame = (type: number, payload: Buffer) => {
        const header = Buffer.alloc(8);
        header[0] = type;
        header.writeUInt32BE(payload.length, 4);
        return Buffer.concat([header, payload]);
      };
      if (stdin.length > 0) socket.write(frame(0, stdin));
      socket.write(frame(0, Buffer.alloc(0)));
      let buf = head;
      const out = { stdout: "", stderr: "", exit: undefined as unknown };
      socket.on("data", (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
      });
      socket.on("close", () => {
        while (buf.length >= 8) {
          const size = buf.readUInt32BE(4);
          const payload = buf.subarray(8, 8 + size).toString();
          if (buf[0] === 1) out.stdout += payload;
          else if (buf[0] === 2) out.stderr += payload;
          else if (buf[0] === 3) out.exit = JSON.parse(payload);
          buf = buf.subarray(8 + size);
        }
        resolve(out);
      });
    });
    req.end();
  });
}
