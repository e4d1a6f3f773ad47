// The tug commands end to end: a real tug-apiserver on an in-process tug-store, reached over
// gRPC through @tug/client's ApiClient, driven by runTug exactly as the bin runs it (only the
// output streams are captured). Applies the example manifests and reads them back.

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiServer } from "@tug/apiserver";
import { LocalBackend, startEtcdGrpcServer } from "@tug/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli-io.js";
import { connectApiClient } from "../../src/client/api-client-adapter.js";
import { runTug } from "../../src/program.js";

const FIXTURES = join(import.meta.dirname, "../../../api/test/fixtures");
/** The examples of /work/shared/examples; kitchen-sink.yaml is a codec fixture with server-owned fields. */
const EXAMPLES = [
  "client-pod.yaml",
  "client-deployment.yaml",
  "client-node-port.yaml",
  "node-selector-pod.yaml",
  "secret-pod.yaml",
];

let backend: LocalBackend;
let store: Awaited<ReturnType<typeof startEtcdGrpcServer>>;
let server: ApiServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-cli-e2e-"));
  backend = new LocalBackend({ name: "cli-e2e" });
  store = await startEtcdGrpcServer({ backend, listen: "127.0.0.1:0" });
  try {
    server = await ApiServer.start({
      etcdServers: [`http://127.0.0.1:${store.port}`],
      listen: "127.0.0.1:0",
      compactionIntervalMs: 0,
    });
  } catch (err) {
    await store.close();
    backend.close();
    throw err;
  }
});

afterAll(async () => {
  await server?.stop();
  await store?.close();
  backend?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  readonly done: Promise<number>;
  out(): string;
  err(): string;
  interrupt(): void;
}

/** Starts `tug --server <the test server> ARGS` as the bin would run it, output captured. */
function start(args: readonly string[], editor?: (file: string) => Promise<void>): Run {
  let out = "";
  let err = "";
  const controller = new AbortController();
  const io: CliIo = {
    stdout: {
      write: (t) => {
        out += t;
      },
    },
    stderr: {
      write: (t) => {
        err += t;
      },
    },
    readStdin: async () => "",
    env: { TUGCONFIG: join(dir, "config") },
    now: () => new Date(),
    connect: connectApiClient,
    runEditor: async (_command, file) => {
      if (editor === undefined) throw new Error("no editor in this test");
      await editor(file);
    },
    signal: controller.signal,
  };
  const done = runTug(["--server", server.address, "--request-timeout", "10s", ...args], io);
  return { done, out: () => out, err: () => err, interrupt: () => controller.abort() };
}

async function tug(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const run = start(args);
  const code = await run.done;
  return { code, out: run.out(), err: run.err() };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe("tug against tug-apiserver on tug-store", () => {
  it("applies the example manifests, and applying again changes nothing", async () => {
    // What tug's ServiceAccount controller will do: give each namespace its default account,
    // which the ServiceAccount admission plugin requires of every pod.
    const setup = join(dir, "setup.yaml");
    await writeFile(
      setup,
      [
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: myns",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: myns",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: default",
      ].join("\n---\n"),
    );
    expect(await tug("apply", "-f", setup)).toEqual({
      code: 0,
      out: "namespace/myns created\nserviceaccount/default created\nserviceaccount/default created\n",
      err: "",
    });

    const files = (await readdir(FIXTURES)).filter((f) => EXAMPLES.includes(f));
    expect(files.length).toBe(EXAMPLES.length);
    const args = files.flatMap((f) => ["-f", join(FIXTURES, f)]);
    const first = await tug("apply", ...args);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(
      first.out
        .split("\n")
        .filter((l) => l !== "")
        .sort(),
    ).toEqual([
      "deployment.apps/client-deployment created",
      "namespace/myns unchanged",
      "pod/client-pod created",
      "pod/mypod created",
      "pod/nginx created",
      "secret/mysecret created",
      "service/client-node-port created",
    ]);
    const again = await tug("apply", ...args);
    expect(again.err).toBe("");
    expect(
      again.out
        .split("\n")
        .filter((l) => l !== "")
        .sort(),
    ).toEqual([
      "deployment.apps/client-deployment unchanged",
      "namespace/myns unchanged",
      "pod/client-pod unchanged",
      "pod/mypod unchanged",
      "pod/nginx unchanged",
      "secret/mysecret unchanged",
      "service/client-node-port unchanged",
    ]);
  });

  it("gets them back as tables, YAML and names", async () => {
    const pods = await tug("get", "pods");
    expect(pods.code).toBe(0);
    expect(pods.out).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(pods.out).toMatch(/\nclient-pod\s+0\/1\s+Pending\s+0\s+\d+s\n/);
    const svc = await tug("get", "svc", "client-node-port");
    expect(svc.out).toMatch(
      /client-node-port\s+NodePort\s+\S+\s+<none>\s+3050:31515\/TCP\s+\d+s\n/,
    );
    const yaml = await tug("get", "deploy", "client-deployment", "-o", "yaml");
    expect(yaml.out).toMatch(
      /^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n {2}name: client-deployment\n/,
    );
    expect(yaml.out).toContain("kubectl.kubernetes.io/last-applied-configuration");
    const names = await tug("get", "pods", "-l", "component=web", "-o", "name");
    expect(names.out).toContain("pod/client-pod\n");
    expect((await tug("get", "ns", "-o", "name")).out).toContain("namespace/default\n");
  });

  it("changes an applied object: apply configures, label, scale", async () => {
    const file = join(dir, "cm.yaml");
    await writeFile(
      file,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: '1'\n  b: '2'\n",
    );
    expect((await tug("apply", "-f", file)).out).toBe("configmap/cfg created\n");
    await writeFile(
      file,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: '10'\n",
    );
    expect((await tug("apply", "-f", file)).out).toBe("configmap/cfg configured\n");
    const cm = JSON.parse((await tug("get", "cm", "cfg", "-o", "json")).out);
    expect(cm.data).toEqual({ a: "10" });
    expect((await tug("label", "cm", "cfg", "tier=front")).out).toBe("configmap/cfg labeled\n");
    expect((await tug("get", "cm", "-l", "tier=front", "-o", "name")).out).toBe("configmap/cfg\n");
    expect((await tug("scale", "deploy/client-deployment", "--replicas=3")).out).toBe(
      "deployment.apps/client-deployment scaled\n",
    );
    const deploy = JSON.parse((await tug("get", "deploy", "client-deployment", "-o", "json")).out);
    expect(deploy.spec.replicas).toBe(3);
  });

  it("describes, lists api-resources, deletes, and prints the server's errors as kubectl", async () => {
    const described = await tug("describe", "pod", "client-pod");
    expect(described.code).toBe(0);
    expect(described.out).toMatch(/^Name:\s+client-pod\nNamespace:\s+default\n/);
    expect(described.out).toContain("Events:");
    const resources = await tug("api-resources");
    expect(resources.out).toMatch(/\npods\s+po\s+v1\s+true\s+Pod\n/);
    expect((await tug("delete", "pod", "client-pod", "--grace-period=0")).out).toBe(
      'pod "client-pod" deleted\n',
    );
    expect(await tug("get", "pod", "client-pod")).toEqual({
      code: 1,
      out: "",
      err: 'Error from server (NotFound): pods "client-pod" not found\n',
    });
  });

  it("watches: get -w prints a row for each change until interrupted", async () => {
    const watch = start(["get", "configmaps", "-w", "-l", "watched=yes"]);
    try {
      await waitFor(() => watch.err().includes("No resources found"), "the empty listing");
      const file = join(dir, "watched.yaml");
      await writeFile(
        file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w1\n  labels: {watched: 'yes'}\ndata: {a: '1'}\n",
      );
      expect((await tug("apply", "-f", file)).out).toBe("configmap/w1 created\n");
      await waitFor(() => /w1\s+1\s+\d+s\n/.test(watch.out()), "the ADDED row");
      expect((await tug("delete", "cm", "w1")).out).toBe('configmap "w1" deleted\n');
      await waitFor(
        () =>
          watch
            .out()
            .split("\n")
            .filter((l) => l.startsWith("w1")).length === 2,
        "the DELETED row",
      );
    } finally {
      watch.interrupt();
    }
    expect(await watch.done).toBe(0);
    expect(watch.out()).toMatch(/^NAME\s+DATA\s+AGE\nw1\s+1\s+\d+s\nw1\s+1\s+\d+s\n$/);
  });

  it("edits through $EDITOR, reopening with the server's refusal as comments", async () => {
    const file = join(dir, "edited.yaml");
    await writeFile(
      file,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edited\ndata: {a: '1'}\n",
    );
    await tug("apply", "-f", file);
    const seen: string[] = [];
    const run = start(["edit", "cm", "edited"], async (path) => {
      const text = await readFile(path, "utf8");
      seen.push(text);
      if (seen.length === 1) {
        // An invalid key: the server refuses it with a field error.
        await writeFile(path, text.replace('a: "1"', 'bad key!: "1"'));
      } else {
        await writeFile(path, text.replace('bad key!: "1"', 'a: "2"'));
      }
    });
    expect(await run.done).toBe(0);
    expect(run.out()).toBe("configmap/edited edited\n");
    expect(seen.length).toBe(2);
    expect(seen[1]).toMatch(/^# Please edit the object below/);
    expect(seen[1]).toMatch(
      /\n# configmaps "edited" was not valid:\n# \* The ConfigMap "edited" is invalid: data\[bad key!\]/,
    );
    const data = JSON.parse((await tug("get", "cm", "edited", "-o", "json")).out).data;
    expect(data).toEqual({ a: "2" });
  });

  it("says the connection was refused when nothing listens", async () => {
    const port = await closedPort();
    let err = "";
    const code = await runTug(
      ["--server", `127.0.0.1:${port}`, "--request-timeout", "5s", "get", "pods"],
      {
        stdout: { write: () => {} },
        stderr: {
          write: (t) => {
            err += t;
          },
        },
        readStdin: async () => "",
        env: { TUGCONFIG: join(dir, "none") },
        now: () => new Date(),
        connect: connectApiClient,
        runEditor: async () => {},
        signal: new AbortController().signal,
      },
    );
    expect(code).toBe(1);
    expect(err).toBe(
      `The connection to the server 127.0.0.1:${port} was refused - did you specify the right host or port?\n`,
    );
  });
});

async function closedPort(): Promise<number> {
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
