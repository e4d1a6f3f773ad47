// tug logs and tug exec against a scripted client: the flags become PodLogOptions and
// PodExecOptions, output reaches stdout/stderr, piped stdin is sent and closed, the remote exit
// code becomes tug's, and server errors print as kubectl prints them.
// (Against a real API server, agent and container: packages/agent/test/api-pod-streams.test.ts.)

import { describe, expect, it } from "vitest";
import type { PodExec, PodExecOptions, PodLogOptions } from "../../src/client/cli-client.js";
import { parseSinceSeconds } from "../../src/commands/logs.js";
import { runTug } from "../../src/program.js";
import { FakeClient } from "../support/fake-client.js";
import { fakeIo } from "../support/fake-io.js";

/** A FakeClient that also streams logs and runs execs from a script. */
class StreamingClient extends FakeClient {
  logCalls: { namespace: string; pod: string; options: PodLogOptions }[] = [];
  execCalls: { namespace: string; pod: string; options: PodExecOptions; stdin: string[] }[] = [];
  constructor(
    private readonly script: {
      log?: string[];
      logError?: Error;
      exec?: (o: PodExecOptions, stdin: string) => number;
    },
  ) {
    super();
  }

  async *logs(namespace: string, pod: string, options: PodLogOptions): AsyncIterable<Uint8Array> {
    this.logCalls.push({ namespace, pod, options });
    if (this.script.logError !== undefined) throw this.script.logError;
    for (const chunk of this.script.log ?? []) yield new TextEncoder().encode(chunk);
  }

  exec(namespace: string, pod: string, options: PodExecOptions): PodExec {
    const stdin: string[] = [];
    this.execCalls.push({ namespace, pod, options, stdin });
    let closed!: () => void;
    const stdinClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    if (!options.stdin) closed();
    return {
      write: (data) => stdin.push(new TextDecoder().decode(data)),
      closeStdin: () => closed(),
      resize: () => undefined,
      cancel: () => undefined,
      done: stdinClosed.then(() => ({
        exitCode: this.script.exec?.(options, stdin.join("")) ?? 0,
      })),
    };
  }
}

async function tug(args: string[], client: StreamingClient, stdin?: string) {
  const io = fakeIo({ client, ...(stdin === undefined ? {} : { stdin }) });
  const code = await runTug(args, io);
  return { code, out: io.out(), err: io.err() };
}

function apiError(reason: string, message: string): Error {
  return Object.assign(new Error(message), { reason, code: 400 });
}

describe("tug logs", () => {
  it("prints the log and passes every flag", async () => {
    const client = new StreamingClient({ log: ["line 1\nli", "ne 2\n"] });
    const r = await tug(
      [
        "logs",
        "pod/web",
        "-c",
        "app",
        "-f",
        "--tail",
        "5",
        "--since",
        "1m30s",
        "--timestamps",
        "-n",
        "shop",
      ],
      client,
    );
    expect(r).toMatchObject({ code: 0, out: "line 1\nline 2\n" });
    expect(client.logCalls[0]).toMatchObject({
      namespace: "shop",
      pod: "web",
      options: {
        container: "app",
        follow: true,
        previous: false,
        timestamps: true,
        tailLines: 5,
        sinceSeconds: 90,
      },
    });
  });

  it("takes the container as a second argument, --previous, and --tail -1 as all", async () => {
    const client = new StreamingClient({ log: [] });
    await tug(["logs", "web", "side", "-p", "--tail", "-1"], client);
    expect(client.logCalls[0]?.options).toMatchObject({ container: "side", previous: true });
    expect(client.logCalls[0]?.options.tailLines).toBeUndefined();
  });

  it("prints the server's error as kubectl does and exits 1", async () => {
    const client = new StreamingClient({
      logError: apiError(
        "BadRequest",
        "a container name must be specified for pod web, choose one of: [a b]",
      ),
    });
    const r = await tug(["logs", "web"], client);
    expect(r.code).toBe(1);
    expect(r.err).toContain("a container name must be specified for pod web, choose one of: [a b]");
  });

  it("refuses a bad --tail, --since and a non-pod TYPE/NAME", async () => {
    const client = new StreamingClient({});
    expect((await tug(["logs", "web", "--tail", "x"], client)).err).toContain(
      'invalid argument "x" for "--tail" flag',
    );
    expect((await tug(["logs", "web", "--since", "soon"], client)).err).toContain(
      'invalid argument "soon" for "--since" flag',
    );
    expect((await tug(["logs", "deploy/web"], client)).err).toContain("tug logs takes a pod");
    expect(client.logCalls).toHaveLength(0);
  });

  it("parses kubectl durations", () => {
    expect(parseSinceSeconds("10s")).toBe(10);
    expect(parseSinceSeconds("2h")).toBe(7200);
    expect(() => parseSinceSeconds("0s")).toThrow(/--since/);
  });
});

describe("tug exec", () => {
  it("runs the command after --, prints its output, and exits with its exit code", async () => {
    const client = new StreamingClient({
      exec: (o) => {
        o.onStdout(new TextEncoder().encode("out\n"));
        o.onStderr(new TextEncoder().encode("err\n"));
        return 3;
      },
    });
    const r = await tug(["exec", "web", "-c", "app", "--", "sh", "-c", "exit 3"], client);
    expect(r).toEqual({
      code: 3,
      out: "out\n",
      err: "err\ncommand terminated with exit code 3\n",
    });
    expect(client.execCalls[0]).toMatchObject({
      namespace: "default",
      pod: "web",
      options: { container: "app", command: ["sh", "-c", "exit 3"], stdin: false, tty: false },
    });
  });

  it("sends piped stdin with -i and closes it; -t without a terminal is dropped with kubectl's warning", async () => {
    const client = new StreamingClient({
      exec: (o, stdin) => {
        o.onStdout(new TextEncoder().encode(stdin.toUpperCase()));
        return 0;
      },
    });
    const r = await tug(["exec", "-it", "web", "--", "cat"], client, "hello\n");
    expect(r.code).toBe(0);
    expect(r.out).toBe("HELLO\n");
    expect(r.err).toBe("Unable to use a TTY - input is not a terminal or the right kind of file\n");
    expect(client.execCalls[0]?.options).toMatchObject({ stdin: true, tty: false });
  });

  it("needs a command", async () => {
    const r = await tug(["exec", "web"], new StreamingClient({}));
    expect(r.code).toBe(1);
    expect(r.err).toContain("you must specify at least one command for the container");
  });
});
