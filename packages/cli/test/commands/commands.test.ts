import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runTug } from "../../src/program.js";
import { FakeClient } from "../support/fake-client.js";
import { fakeIo } from "../support/fake-io.js";

const podYaml = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: app
    image: tug/busybox
`;

const cmYaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  a: "1"
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tug-cli-cmd-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tug(args: string[], io = fakeIo()) {
  const code = await runTug(args, io);
  return { code, out: io.out(), err: io.err(), io };
}

describe("apply, create, replace", () => {
  it("creates, then reports unchanged, then configured", async () => {
    const client = new FakeClient();
    const file = join(dir, "all.yaml");
    await writeFile(file, `${podYaml}---\n${cmYaml}`);
    expect(await tug(["apply", "-f", file], fakeIo({ client }))).toMatchObject({
      code: 0,
      out: "pod/web created\nconfigmap/cfg created\n",
    });
    expect((await tug(["apply", "-f", file], fakeIo({ client }))).out).toBe(
      "pod/web unchanged\nconfigmap/cfg unchanged\n",
    );
    await writeFile(file, cmYaml.replace('a: "1"', 'a: "2"'));
    expect((await tug(["apply", "-f", file], fakeIo({ client }))).out).toBe(
      "configmap/cfg configured\n",
    );
    const get = await tug(["get", "cm", "cfg", "-o", "json"], fakeIo({ client }));
    expect(JSON.parse(get.out).data).toEqual({ a: "2" });
  });

  it("reads a directory and stdin, and names the file of a bad manifest", async () => {
    await writeFile(join(dir, "a.yaml"), podYaml);
    await writeFile(join(dir, "b.yml"), cmYaml);
    await writeFile(join(dir, "notes.txt"), "not a manifest");
    expect((await tug(["apply", "-f", dir])).out).toBe("pod/web created\nconfigmap/cfg created\n");
    expect((await tug(["create", "-f", "-"], fakeIo({ stdin: cmYaml }))).out).toBe(
      "configmap/cfg created\n",
    );
    await writeFile(
      join(dir, "bad.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containerz: []}\n",
    );
    const bad = await tug(["apply", "-f", join(dir, "bad.yaml")]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: error parsing .*bad\.yaml: document 0: /);
    expect((await tug(["apply", "-f", join(dir, "missing.yaml")])).err).toContain('the path "');
  });

  it("create of an existing object prints the server's error and exits 1", async () => {
    const client = new FakeClient();
    await writeFile(join(dir, "cm.yaml"), cmYaml);
    await tug(["create", "-f", join(dir, "cm.yaml")], fakeIo({ client }));
    const again = await tug(["create", "-f", join(dir, "cm.yaml")], fakeIo({ client }));
    expect(again).toMatchObject({
      code: 1,
      err: 'Error from server (AlreadyExists): configmaps "cfg" already exists\n',
    });
    expect((await tug(["replace", "-f", join(dir, "cm.yaml")], fakeIo({ client }))).out).toBe(
      "configmap/cfg replaced\n",
    );
  });

  it("warns when applying over an object created without --save-config, not with it", async () => {
    const client = new FakeClient();
    const file = join(dir, "cm.yaml");
    await writeFile(file, cmYaml);
    await tug(["create", "-f", file], fakeIo({ client }));
    const over = await tug(["apply", "-f", file], fakeIo({ client }));
    expect(over.err).toMatch(
      /^Warning: resource configmaps\/cfg is missing the kubectl.kubernetes.io\/last-applied-configuration annotation/,
    );
    expect(over.out).toBe("configmap/cfg configured\n");
    expect((await tug(["apply", "-f", file], fakeIo({ client }))).err).toBe("");

    const saved = new FakeClient();
    await tug(["create", "--save-config", "-f", file], fakeIo({ client: saved }));
    expect(await tug(["apply", "-f", file], fakeIo({ client: saved }))).toMatchObject({
      err: "",
      out: "configmap/cfg unchanged\n",
    });
  });

  it("create namespace NAME generates the object; create -f still reads files", async () => {
    const client = new FakeClient();
    expect(await tug(["create", "namespace", "dev"], fakeIo({ client }))).toMatchObject({
      code: 0,
      out: "namespace/dev created\n",
    });
    expect((await tug(["create", "ns", "Bad_Name"], fakeIo({ client }))).err).toContain(
      'invalid namespace name "Bad_Name"',
    );
    await writeFile(join(dir, "cm.yaml"), cmYaml);
    expect((await tug(["create", "-f", join(dir, "cm.yaml")], fakeIo({ client }))).out).toBe(
      "configmap/cfg created\n",
    );
    expect((await tug(["get", "ns", "-o", "name"], fakeIo({ client }))).out).toBe(
      "namespace/dev\n",
    );
  });

  it("refuses an object whose namespace differs from an explicit -n", async () => {
    await writeFile(
      join(dir, "cm.yaml"),
      cmYaml.replace("name: cfg", "name: cfg\n  namespace: prod"),
    );
    const r = await tug(["apply", "-n", "dev", "-f", join(dir, "cm.yaml")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `the namespace from the provided object "prod" does not match the namespace "dev"`,
    );
  });
});

describe("get", () => {
  function seeded(): FakeClient {
    const client = new FakeClient();
    client.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web",
        namespace: "default",
        labels: { app: "web" },
        creationTimestamp: "2024-05-01T11:56:48Z",
      },
      spec: { containers: [{ name: "app", image: "x" }] },
      status: {
        phase: "Running",
        containerStatuses: [{ name: "app", ready: true, state: { running: {} } }],
      },
    });
    client.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "db",
        namespace: "prod",
        labels: { app: "db" },
        creationTimestamp: "2024-05-01T11:00:00Z",
      },
      spec: { containers: [{ name: "db", image: "x" }] },
      status: { phase: "Pending" },
    });
    return client;
  }

  it("prints kubectl's table, by name, by selector, across namespaces", async () => {
    const client = seeded();
    expect((await tug(["get", "pods"], fakeIo({ client }))).out).toBe(
      "NAME   READY   STATUS    RESTARTS   AGE\nweb    1/1     Running   0          3m12s\n",
    );
    expect((await tug(["get", "pods", "-A", "-l", "app=db"], fakeIo({ client }))).out).toBe(
      "NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE\nprod        db     0/1     Pending   0          60m\n",
    );
    expect((await tug(["get", "pod/db", "-n", "prod", "-o", "name"], fakeIo({ client }))).out).toBe(
      "pod/db\n",
    );
    expect(
      (
        await tug(
          ["get", "po", "--field-selector", "metadata.name=web", "-o", "name"],
          fakeIo({ client }),
        )
      ).out,
    ).toBe("pod/web\n");
  });

  it("prints one object as itself and a listing as a List", async () => {
    const client = seeded();
    const one = JSON.parse(
      (await tug(["get", "pod", "web", "-o", "json"], fakeIo({ client }))).out,
    );
    expect(one).toMatchObject({ apiVersion: "v1", kind: "Pod", metadata: { name: "web" } });
    const many = (await tug(["get", "pods", "-o", "yaml"], fakeIo({ client }))).out;
    expect(many).toMatch(/^apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n {2}kind: Pod\n/);
  });

  it("prints -o jsonpath and -o custom-columns", async () => {
    const client = seeded();
    expect(
      (
        await tug(
          ["get", "pods", "-A", "-o", "jsonpath={.items[*].metadata.name}"],
          fakeIo({ client }),
        )
      ).out,
    ).toBe("web db");
    expect(
      (await tug(["get", "pod", "web", "-o=jsonpath={.status.phase}"], fakeIo({ client }))).out,
    ).toBe("Running");
    expect(
      (
        await tug(
          ["get", "pods", "-A", "-o", "custom-columns=NS:.metadata.namespace,NAME:.metadata.name"],
          fakeIo({ client }),
        )
      ).out,
    ).toBe("NS        NAME\ndefault   web\nprod      db\n");
    expect((await tug(["get", "pods", "-o", "jsonpath"], fakeIo({ client }))).err).toContain(
      "jsonpath needs a template",
    );
  });

  it("says so when nothing is found, and prints NotFound as kubectl", async () => {
    const client = seeded();
    expect(await tug(["get", "deploy"], fakeIo({ client }))).toMatchObject({
      code: 0,
      out: "",
      err: "No resources found in default namespace.\n",
    });
    expect(await tug(["get", "pods", "nope"], fakeIo({ client }))).toMatchObject({
      code: 1,
      err: 'Error from server (NotFound): pods "nope" not found\n',
    });
    expect((await tug(["get", "nodes"], fakeIo({ client }))).err).toBe("No resources found\n");
  });

  it("explains usage errors and exits 1", async () => {
    expect(await tug(["get"])).toMatchObject({ code: 1 });
    expect((await tug(["get"])).err).toContain("you must specify the type of resource to get");
    expect((await tug(["get", "flurbs"])).err).toBe(
      'error: the server doesn\'t have a resource type "flurbs"; list the known types with `tug api-resources`\n',
    );
    expect((await tug(["get", "pods", "-o", "xml"])).err).toContain(
      'unable to match a printer suitable for the output format "xml"',
    );
    const unknown = await tug(["get", "pods", "--bogus"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("unknown option '--bogus'");
    expect(unknown.err).toContain("See 'tug get --help' for usage.");
  });

  it("prints several kinds as tables naming objects TYPE/NAME, and `all` as kubectl's category", async () => {
    const client = seeded();
    client.seed({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default", creationTimestamp: "2024-05-01T11:00:00Z" },
      spec: { clusterIP: "10.96.0.1", ports: [{ port: 80, protocol: "TCP" }] },
    });
    client.seed({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "not-in-all", namespace: "default" },
    });
    const want = [
      "NAME      READY   STATUS    RESTARTS   AGE",
      "pod/web   1/1     Running   0          3m12s",
      "",
      "NAME          TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE",
      "service/web   ClusterIP   10.96.0.1    <none>        80/TCP    60m",
      "",
    ].join("\n");
    expect((await tug(["get", "pods,svc"], fakeIo({ client }))).out).toBe(want);
    expect((await tug(["get", "all"], fakeIo({ client }))).out).toBe(want);
  });

  it("--watch on one name starts from its version and prints only its changes", async () => {
    const client = seeded();
    const io = fakeIo({ client });
    const running = runTug(["get", "pod", "web", "-w", "-o", "name"], io);
    await waitFor(() => client.watchers === 1);
    expect(client.calls.at(-1)).toMatch(/^watch pods default from \d+$/);
    expect(client.calls.at(-1)).not.toBe("watch pods default from 0");
    client.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "other", namespace: "default" },
      spec: { containers: [{ name: "a" }] },
    });
    await tug(["label", "pod", "web", "x=y"], fakeIo({ client }));
    await waitFor(() => io.out() === "pod/web\npod/web\n");
    io.controller.abort();
    expect(await running).toBe(0);
  });

  it("--watch prints rows as changes arrive and stops when interrupted", async () => {
    const client = seeded();
    const io = fakeIo({ client });
    const running = runTug(["get", "pods", "-w"], io);
    await waitFor(() => client.watchers === 1);
    client.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "new", namespace: "default", creationTimestamp: "2024-05-01T11:59:50Z" },
      spec: { containers: [{ name: "app" }] },
    });
    await waitFor(() => io.out().includes("new"));
    io.controller.abort();
    expect(await running).toBe(0);
    expect(io.out()).toBe(
      [
        "NAME   READY   STATUS    RESTARTS   AGE",
        "web    1/1     Running   0          3m12s",
        "new    0/1     Pending   0          10s",
        "",
      ].join("\n"),
    );
    expect(client.watchers).toBe(0);
  });
});

describe("delete", () => {
  it("deletes by name, by selector and --all, printing kubectl's lines", async () => {
    const client = new FakeClient();
    for (const name of ["a", "b", "c"]) {
      client.seed({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, labels: { tier: name === "a" ? "x" : "y" } },
      });
    }
    expect((await tug(["delete", "cm", "a"], fakeIo({ client }))).out).toBe(
      'configmap "a" deleted\n',
    );
    expect((await tug(["delete", "cm", "-l", "tier=y", "--now"], fakeIo({ client }))).out).toBe(
      'configmap "b" deleted\nconfigmap "c" deleted\n',
    );
    expect(client.calls).toContain('delete configmaps default/b {"gracePeriodSeconds":1}');
    expect((await tug(["delete", "cm", "--all"], fakeIo({ client }))).err).toBe(
      "No resources found in default namespace.\n",
    );
    expect(await tug(["delete", "cm", "a"], fakeIo({ client }))).toMatchObject({
      code: 1,
      err: 'Error from server (NotFound): configmaps "a" not found\n',
    });
    expect((await tug(["delete", "cm"], fakeIo({ client }))).err).toContain(
      "no name was specified",
    );
  });

  it("waits for graceful deletion unless --wait=false", async () => {
    const client = new FakeClient();
    client.gracefulDeletes = true;
    client.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } });
    client.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" } });
    expect((await tug(["delete", "cm/a"], fakeIo({ client }))).out).toBe('configmap "a" deleted\n');
    expect(client.calls.filter((c) => c === "get configmaps default/a").length).toBeGreaterThan(0);
    expect(client.objects.size).toBe(1);
    await tug(["delete", "cm/b", "--wait=false"], fakeIo({ client }));
    expect(client.calls).not.toContain("get configmaps default/b");
  });
});

describe("label and annotate", () => {
  function withPod(): FakeClient {
    const client = new FakeClient();
    client.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", labels: { app: "web" } },
      spec: { containers: [{ name: "a" }] },
    });
    return client;
  }

  it("adds, removes, and refuses to overwrite without --overwrite", async () => {
    const client = withPod();
    expect((await tug(["label", "pods", "web", "tier=front"], fakeIo({ client }))).out).toBe(
      "pod/web labeled\n",
    );
    expect(await tug(["label", "pods", "web", "app=api"], fakeIo({ client }))).toMatchObject({
      code: 1,
      err: "error: 'app' already has a value (web), and --overwrite is false\n",
    });
    expect(
      (await tug(["label", "pod/web", "app=api", "tier-", "--overwrite"], fakeIo({ client }))).out,
    ).toBe("pod/web labeled\n");
    const labels = JSON.parse(
      (await tug(["get", "pod", "web", "-o", "json"], fakeIo({ client }))).out,
    ).metadata.labels;
    expect(labels).toEqual({ app: "api" });
    expect(
      (await tug(["label", "pods", "web", "app=api", "--overwrite"], fakeIo({ client }))).out,
    ).toBe("pod/web not labeled\n");
    expect(
      (await tug(["annotate", "pods", "web", "note=hello world"], fakeIo({ client }))).out,
    ).toBe("pod/web annotated\n");
    expect((await tug(["label", "pods", "web", "bad key=x"], fakeIo({ client }))).err).toContain(
      'invalid label key "bad key"',
    );
  });
});

describe("scale", () => {
  it("sets replicas, with --current-replicas as a precondition", async () => {
    const client = new FakeClient();
    client.seed({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } } },
      },
    });
    expect((await tug(["scale", "deploy/web", "--replicas=5"], fakeIo({ client }))).out).toBe(
      "deployment.apps/web scaled\n",
    );
    expect(
      await tug(
        ["scale", "deploy", "web", "--replicas=1", "--current-replicas=2"],
        fakeIo({ client }),
      ),
    ).toMatchObject({
      code: 1,
      err: "error: Expected replicas to be 2, was 5\n",
    });
    expect((await tug(["scale", "pods", "web", "--replicas=1"], fakeIo({ client }))).err).toContain(
      "cannot scale pods",
    );
    expect((await tug(["scale", "deploy/web"], fakeIo({ client }))).err).toContain(
      "--replicas is required",
    );
  });
});

describe("describe", () => {
  it("shows a pod with its events", async () => {
    const client = new FakeClient();
    client.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web",
        uid: "pod-uid",
        labels: { app: "web" },
        creationTimestamp: "2024-05-01T11:00:00Z",
      },
      spec: {
        nodeName: "node-1",
        containers: [{ name: "app", image: "tug/busybox", ports: [{ containerPort: 3000 }] }],
      },
      status: {
        phase: "Running",
        podIP: "10.0.0.5",
        hostIP: "192.168.1.2",
        qosClass: "BestEffort",
      },
    });
    client.seed({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "web.1" },
      involvedObject: { kind: "Pod", name: "web", namespace: "default", uid: "pod-uid" },
      type: "Normal",
      reason: "Scheduled",
      message: "Successfully assigned default/web to node-1",
      source: { component: "default-scheduler" },
      lastTimestamp: "2024-05-01T11:59:50Z",
    });
    client.seed({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "other.1" },
      involvedObject: { kind: "Pod", name: "other", namespace: "default", uid: "x" },
      reason: "Nope",
    });
    const r = await tug(["describe", "pod", "web"], fakeIo({ client }));
    expect(r.code).toBe(0);
    expect(r.out).toContain("Name:             web\nNamespace:        default\n");
    expect(r.out).toContain("Node:             node-1/192.168.1.2\n");
    expect(r.out).toContain("Labels:           app=web\n");
    expect(r.out).toContain("    Port:         3000/TCP\n");
    expect(r.out).toContain(
      "Events:\n  Type    Reason     Age   From               Message\n  ----    ------     ----  ----               -------\n  Normal  Scheduled  10s   default-scheduler  Successfully assigned default/web to node-1\n",
    );
    expect(r.out).not.toContain("Nope");
  });

  it("describes the objects a name prefixes when none has that exact name", async () => {
    const client = new FakeClient();
    for (const name of ["web-5d9c-a", "web-5d9c-b", "db-0"]) {
      client.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
    }
    const r = await tug(["describe", "cm", "web"], fakeIo({ client }));
    expect(r.code).toBe(0);
    expect(r.out.match(/^Name:\s+\S+$/gm)).toEqual([
      "Name:         web-5d9c-a",
      "Name:         web-5d9c-b",
    ]);
    expect(await tug(["describe", "cm", "nope"], fakeIo({ client }))).toMatchObject({
      code: 1,
      err: 'Error from server (NotFound): configmaps "nope" not found\n',
    });
  });

  it("describes other kinds field by field", async () => {
    const client = new FakeClient();
    client.seed({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { a: "1" },
    });
    const r = await tug(["describe", "cm/cfg"], fakeIo({ client }));
    expect(r.out).toBe(
      [
        "Name:         cfg",
        "Namespace:    default",
        "Labels:       <none>",
        "Annotations:  <none>",
        "",
        "Data",
        "====",
        "a:",
        "----",
        "1",
        "",
        "",
        "BinaryData",
        "====",
        "",
        "Events:  <none>",
        "",
      ].join("\n"),
    );
    client.seed({
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "rev" },
      revision: 2,
    });
    const generic = await tug(["describe", "controllerrevisions", "rev"], fakeIo({ client }));
    expect(generic.out).toContain("Name:                rev\n");
    expect(generic.out).toContain("Revision:            2\n");
  });
});

describe("edit", () => {
  it("updates what the editor changed, and reopens with the error on failure", async () => {
    const client = new FakeClient();
    client.seed({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { a: "1" },
    });
    const seen: string[] = [];
    let round = 0;
    const editor = async (file: string) => {
      const text = await readFile(file, "utf8");
      seen.push(text);
      round++;
      if (round === 1) await writeFile(file, text.replace('a: "1"', "a: [oops"));
      else await writeFile(file, text.replace("a: [oops", 'a: "2"'));
    };
    const r = await tug(["edit", "cm", "cfg"], fakeIo({ client, editor }));
    expect(r).toMatchObject({ code: 0, out: "configmap/cfg edited\n" });
    expect(seen[0]).toMatch(/^# Please edit the object below/);
    expect(seen[1]).toContain("# The edited file failed validation");
    const data = JSON.parse(
      (await tug(["get", "cm", "cfg", "-o", "json"], fakeIo({ client }))).out,
    ).data;
    expect(data).toEqual({ a: "2" });
  });

  it("cancels when nothing changed", async () => {
    const client = new FakeClient();
    client.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" } });
    const r = await tug(["edit", "cm/cfg"], fakeIo({ client, editor: async () => {} }));
    expect(r.out).toBe("Edit cancelled, no changes made.\n");
    expect(client.calls.some((c) => c.startsWith("update"))).toBe(false);
  });
});

describe("api-resources and errors", () => {
  it("lists kubectl's columns", async () => {
    const r = await tug(["api-resources"]);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    expect(r.out).toMatch(/\npods\s+po\s+v1\s+true\s+Pod\n/);
    expect(r.out).toMatch(/\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
  });

  it("reports a refused connection as kubectl does", async () => {
    const io = fakeIo();
    const refused = new Error(
      "14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:6443",
    );
    io.client.get = async () => {
      throw refused;
    };
    const r = await tug(["get", "pod", "web", "-s", "127.0.0.1:6443"], io);
    expect(r).toMatchObject({
      code: 1,
      err: "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n",
    });
  });
});

describe("config and global flags", () => {
  it("config verbs write the file that later commands connect with", async () => {
    const env = { TUGCONFIG: join(dir, "config") };
    expect(
      (await tug(["config", "set-cluster", "local", "--server", "10.1.1.1:6443"], fakeIo({ env })))
        .out,
    ).toBe('Cluster "local" set.\n');
    expect(
      (await tug(["config", "set-credentials", "me", "--token", "abc"], fakeIo({ env }))).out,
    ).toBe('User "me" set.\n');
    expect(
      (
        await tug(
          ["config", "set-context", "dev", "--cluster=local", "--user=me", "--namespace=dev"],
          fakeIo({ env }),
        )
      ).out,
    ).toBe('Context "dev" created.\n');
    expect((await tug(["config", "use-context", "dev"], fakeIo({ env }))).out).toBe(
      'Switched to context "dev".\n',
    );
    expect((await tug(["config", "view"], fakeIo({ env }))).out).toContain("token: REDACTED");
    expect((await tug(["config", "view", "--raw"], fakeIo({ env }))).out).toContain("token: abc");
    expect((await tug(["config", "get-contexts"], fakeIo({ env }))).out).toContain(
      "*         dev    local     me         dev",
    );
    expect((await tug(["config", "use-context", "nope"], fakeIo({ env }))).code).toBe(1);

    const io = fakeIo({ env });
    await tug(["get", "pods"], io);
    expect(io.connections[0]).toEqual({
      server: "10.1.1.1:6443",
      token: "abc",
      namespace: "dev",
      explicitNamespace: false,
    });
    expect(io.client.calls).toEqual(["list pods dev"]);

    const flagged = fakeIo({ env });
    await tug(["get", "pods", "-n", "prod", "--server", "h:1", "--token", "t"], flagged);
    expect(flagged.connections[0]).toEqual({
      server: "h:1",
      token: "t",
      namespace: "prod",
      explicitNamespace: true,
    });
    expect(flagged.client.closed).toBe(true);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error("condition not reached");
}

describe("usage", () => {
  it("points at the right help", async () => {
    expect((await tug(["frob"])).err).toBe(
      "error: unknown command 'frob'\nSee 'tug --help' for usage.\n",
    );
    expect((await tug(["--server", "h:1", "delete", "--frob"])).err).toContain(
      "See 'tug delete --help' for usage.",
    );
    const help = await tug(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: tug [options] [command]");
    const bare = await tug([]);
    expect(bare.code).toBe(0);
    expect(bare.err).toContain("Usage: tug [options] [command]");
    expect((await tug(["config"])).code).toBe(0);
  });
});
