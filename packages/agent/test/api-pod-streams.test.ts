// `tug logs` and `tug exec` as a client sees them: ApiClient.logs and ApiClient.exec against a
// real tug-apiserver, which finds the pod's node and proxies to a real tug-agent driving real
// busybox containers through tug-cri-docker (the agent binds 127.0.0.1, so it registers that
// as its InternalIP). Errors are the API server's (Kubernetes' texts) or the agent's.

import { create } from "@bufbuild/protobuf";
import { type Pod, PodSchema } from "@tug/api";
import { type ApiError, isApiError } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, type Cluster, eventually, startCluster } from "./harness.js";

let c: Cluster;

beforeAll(async () => {
  c = await startCluster({ nodeIp: "127.0.0.1" });
}, 120_000);
afterAll(async () => {
  await c?.close();
}, 120_000);

function pod(
  name: string,
  containers: { name: string; command: string[] }[],
  options: { bound?: boolean; restartPolicy?: string } = {},
): Pod {
  return create(PodSchema, {
    metadata: { name, namespace: "default" },
    spec: {
      ...(options.bound === false ? {} : { nodeName: c.node }),
      restartPolicy: options.restartPolicy ?? "Always",
      terminationGracePeriodSeconds: 1,
      containers: containers.map((x) => ({ ...x, image: BUSYBOX })),
    },
  });
}

async function running(name: string): Promise<Pod> {
  return eventually(`pod ${name} running`, async () => {
    const p = await c.client.get(PodSchema, name, { namespace: "default" });
    return p.status?.containerStatuses.every((s) => s.state?.running !== undefined) &&
      (p.status?.containerStatuses.length ?? 0) > 0
      ? p
      : undefined;
  });
}

async function readLogs(name: string, options: Parameters<Cluster["client"]["logs"]>[1] = {}) {
  let text = "";
  for await (const chunk of c.client.logs(name, options)) text += Buffer.from(chunk).toString();
  return text;
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

// One long-running pod that logs a line a second, for logs and exec alike.
beforeAll(async () => {
  await c.client.create(
    PodSchema,
    pod("talker", [
      {
        name: "main",
        command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 1; done"],
      },
    ]),
  );
  await running("talker");
}, 60_000);

describe("logs through the API server", () => {
  it("reads the log of the only container, and only its tail", async () => {
    await eventually("three lines", async () =>
      (await readLogs("talker")).includes("line 3\n") ? true : undefined,
    );
    const all = await readLogs("talker");
    expect(all.startsWith("line 1\nline 2\nline 3\n")).toBe(true);
    const tail = await readLogs("talker", { tailLines: 2, container: "main" });
    expect(tail.trimEnd().split("\n")).toHaveLength(2);
    const stamped = await readLogs("talker", { tailLines: 1, timestamps: true });
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\S+Z line \d+\n$/);
  });

  it("follows: new lines arrive on the open stream", async () => {
    const abort = new AbortController();
    const seen: number[] = [];
    for await (const chunk of c.client.logs("talker", {
      follow: true,
      tailLines: 1,
      signal: abort.signal,
    })) {
      for (const m of Buffer.from(chunk)
        .toString()
        .matchAll(/line (\d+)/g))
        seen.push(Number(m[1]));
      if (seen.length >= 3) abort.abort();
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[2]).toBeGreaterThan(seen[0] as number);
  });

  it("reads the previous run after a restart", async () => {
    await c.client.create(
      PodSchema,
      pod("crasher", [{ name: "boom", command: ["sh", "-c", "echo run; sleep 1; exit 1"] }]),
    );
    await eventually(
      "a restart",
      async () => {
        const p = await c.client.get(PodSchema, "crasher", { namespace: "default" });
        return (p.status?.containerStatuses[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      60_000,
    );
    expect(await readLogs("crasher", { previous: true })).toBe("run\n");
    await c.client.delete(PodSchema, "crasher", { namespace: "default", gracePeriodSeconds: 0 });
  }, 90_000);

  it("answers kubectl's errors: unknown pod, container, several containers, not started, no previous", async () => {
    expect((await failure(readLogs("ghost"))).message).toBe('pods "ghost" not found');
    expect((await failure(readLogs("talker", { container: "nope" }))).message).toBe(
      "container nope is not valid for pod talker",
    );
    await c.client.create(
      PodSchema,
      pod(
        "pair",
        [
          { name: "a", command: ["sleep", "3600"] },
          { name: "b", command: ["sleep", "3600"] },
        ],
        { bound: false },
      ),
    );
    const several = await failure(readLogs("pair"));
    expect(several.reason).toBe("BadRequest");
    expect(several.message).toBe(
      "a container name must be specified for pod pair, choose one of: [a b]",
    );
    expect((await failure(readLogs("pair", { container: "a" }))).message).toBe(
      'container "a" in pod "pair" is waiting to start: ContainerCreating',
    );
    expect((await failure(readLogs("talker", { previous: true }))).message).toBe(
      'previous terminated container "main" in pod "talker" not found',
    );
    await c.client.delete(PodSchema, "pair", { namespace: "default", gracePeriodSeconds: 0 });
  });
});

describe("exec through the API server", () => {
  async function exec(
    name: string,
    command: string[],
    stdin?: string,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const session = c.client.exec(name, {
      command,
      stdin: stdin !== undefined,
      onStdout: (d) => {
        stdout += Buffer.from(d).toString();
      },
      onStderr: (d) => {
        stderr += Buffer.from(d).toString();
      },
    });
    if (stdin !== undefined) {
      session.write(Buffer.from(stdin));
      session.closeStdin();
    }
    const { exitCode } = await session.done;
    return { exitCode, stdout, stderr };
  }

  it("runs a command: stdout, stderr and its exit code (3)", async () => {
    await running("talker");
    const r = await exec("talker", ["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
    const ok = await exec("talker", ["echo", "fine"]);
    expect(ok).toEqual({ exitCode: 0, stdout: "fine\n", stderr: "" });
  });

  it("passes stdin to the command (cat) and ends it", async () => {
    const r = await exec("talker", ["cat"], "hello\nworld\n");
    expect(r).toEqual({ exitCode: 0, stdout: "hello\nworld\n", stderr: "" });
  });

  it("with a TTY, stderr is part of stdout (terminal line endings)", async () => {
    let stdout = "";
    let stderr = "";
    const session = c.client.exec("talker", {
      command: ["sh", "-c", "echo out; echo err >&2"],
      tty: true,
      onStdout: (d) => {
        stdout += Buffer.from(d).toString();
      },
      onStderr: (d) => {
        stderr += Buffer.from(d).toString();
      },
    });
    expect((await session.done).exitCode).toBe(0);
    expect(stdout).toBe("out\r\nerr\r\n");
    expect(stderr).toBe("");
  });

  it("refuses an unbound pod, an unknown container and an unknown pod", async () => {
    await c.client.create(
      PodSchema,
      pod("floating", [{ name: "x", command: ["sleep", "3600"] }], { bound: false }),
    );
    expect((await failure(exec("floating", ["true"]))).message).toBe(
      "pod floating does not have a host assigned",
    );
    const session = c.client.exec("talker", { container: "nope", command: ["true"] });
    expect((await failure(session.done)).message).toBe(
      "container nope is not valid for pod talker",
    );
    expect((await failure(exec("ghost", ["true"]))).reason).toBe("NotFound");
    await c.client.delete(PodSchema, "floating", { namespace: "default", gracePeriodSeconds: 0 });
  });
});
