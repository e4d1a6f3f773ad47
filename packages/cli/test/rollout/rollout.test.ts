import { type JsonObject, objectFromJson } from "@tug/api";
import { describe, expect, it } from "vitest";
import { resolveKind } from "../../src/commands/resource-args.js";
import { rolloutStatus } from "../../src/commands/rollout.js";
import { runTug } from "../../src/program.js";
import { FakeClient } from "../support/fake-client.js";
import { fakeIo } from "../support/fake-io.js";

async function tug(client: FakeClient, args: string[]) {
  const io = fakeIo({ client });
  const code = await runTug(args, io);
  return { code, out: io.out(), err: io.err() };
}

const template = (image: string, extraLabels: Record<string, string> = {}) => ({
  metadata: { labels: { app: "web", ...extraLabels } },
  spec: { containers: [{ name: "app", image }] },
});

function deployment(status: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", uid: "d-uid", generation: 2 },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      template: template("tug/web:v2"),
      ...extra,
    },
    status: { observedGeneration: 2, ...status },
  };
}

function replicaSet(revision: number, image: string, cause?: string): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${revision}`,
      annotations: {
        "deployment.kubernetes.io/revision": `${revision}`,
        ...(cause === undefined ? {} : { "kubernetes.io/change-cause": cause }),
      },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: "web",
          uid: "d-uid",
          controller: true,
        },
      ],
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "web", "pod-template-hash": `h${revision}` } },
      template: template(image, { "pod-template-hash": `h${revision}` }),
    },
  };
}

describe("rolloutStatus (kubectl's status viewer)", () => {
  const deployments = resolveKind("deployments");
  const name = { metadata: { name: "web", generation: 1 } };
  it.each([
    [
      { spec: { replicas: 3 }, status: { observedGeneration: 0 } },
      "Waiting for deployment spec update to be observed...",
      false,
    ],
    [
      { spec: { replicas: 3 }, status: { observedGeneration: 1, updatedReplicas: 1 } },
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
      false,
    ],
    [
      { spec: { replicas: 3 }, status: { observedGeneration: 1, replicas: 4, updatedReplicas: 3 } },
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
      false,
    ],
    [
      {
        spec: { replicas: 3 },
        status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 2 },
      },
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
      false,
    ],
    [
      {
        spec: { replicas: 3 },
        status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      },
      'deployment "web" successfully rolled out',
      true,
    ],
  ])("%j → %s", (o, message, done) => {
    expect(rolloutStatus(deployments, { ...name, ...o } as JsonObject)).toEqual({ message, done });
  });

  it("fails a deployment past its progress deadline", () => {
    const o = {
      ...name,
      status: {
        observedGeneration: 1,
        conditions: [{ type: "Progressing", reason: "ProgressDeadlineExceeded" }],
      },
    };
    expect(() => rolloutStatus(deployments, o)).toThrow(
      'deployment "web" exceeded its progress deadline',
    );
  });

  it("follows a daemon set", () => {
    const daemonsets = resolveKind("daemonsets");
    const o = (updated: number, available: number) => ({
      metadata: { name: "agent", generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        updatedNumberScheduled: updated,
        numberAvailable: available,
      },
    });
    expect(rolloutStatus(daemonsets, o(1, 1)).message).toBe(
      'Waiting for daemon set "agent" rollout to finish: 1 out of 2 new pods have been updated...',
    );
    expect(rolloutStatus(daemonsets, o(2, 1)).message).toBe(
      'Waiting for daemon set "agent" rollout to finish: 1 of 2 updated pods are available...',
    );
    expect(rolloutStatus(daemonsets, o(2, 2))).toEqual({
      message: 'daemon set "agent" successfully rolled out',
      done: true,
    });
  });
});

describe("tug rollout status", () => {
  it("prints each new state until the rollout is done, then releases its watch", async () => {
    const client = new FakeClient();
    client.seed(deployment({ replicas: 3, updatedReplicas: 1, availableReplicas: 1 }));
    const io = fakeIo({ client });
    const done = runTug(["rollout", "status", "deployment/web"], io);
    const deployments = resolveKind("deployments");
    // Each step lets the command print and re-arm its watch, then writes the next status.
    const step = async (status: JsonObject) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const json = structuredClone(
        client.objects.get("apps/deployments/default/web") as JsonObject,
      );
      json.status = { observedGeneration: 2, ...status };
      await client.update(deployments, "default", objectFromJson(json));
    };
    await step({ replicas: 3, updatedReplicas: 1, availableReplicas: 1 });
    await step({ replicas: 4, updatedReplicas: 3, availableReplicas: 2 });
    await step({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    expect(await done).toBe(0);
    expect(io.out()).toBe(
      [
        'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
        'deployment "web" successfully rolled out',
        "",
      ].join("\n"),
    );
    expect(client.watchers).toBe(0);
  });

  it("--watch=false prints the state once; --timeout gives up with kubectl's text", async () => {
    const client = new FakeClient();
    client.seed(deployment({ replicas: 3, updatedReplicas: 1 }));
    expect(await tug(client, ["rollout", "status", "deploy", "web", "--watch=false"])).toEqual({
      code: 0,
      out: 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n',
      err: "",
    });
    const timedOut = await tug(client, ["rollout", "status", "deploy/web", "--timeout", "50ms"]);
    expect(timedOut.code).toBe(1);
    expect(timedOut.err).toBe("error: timed out waiting for the condition\n");
    expect(client.watchers).toBe(0);
  });

  it("refuses kinds without a rollout", async () => {
    const r = await tug(new FakeClient(), ["rollout", "status", "pod/web"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("tug rollout status supports deployments, daemonsets");
  });
});

describe("tug rollout history and undo", () => {
  function seeded(): FakeClient {
    const client = new FakeClient();
    client.seed(deployment({}));
    client.seed(replicaSet(1, "tug/web:v1"));
    client.seed(replicaSet(2, "tug/web:v2", "kubectl set image deployment/web app=tug/web:v2"));
    return client;
  }

  it("lists the revisions with their change causes", async () => {
    expect(await tug(seeded(), ["rollout", "history", "deployment/web"])).toEqual({
      code: 0,
      out: "deployment.apps/web \nREVISION   CHANGE-CAUSE\n1          <none>\n2          kubectl set image deployment/web app=tug/web:v2\n\n",
      err: "",
    });
  });

  it("--revision shows that revision's pod template without the hash label", async () => {
    const r = await tug(seeded(), ["rollout", "history", "deployment/web", "--revision", "1"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("deployment.apps/web with revision #1\nPod Template:\n");
    expect(r.out).toContain("image: tug/web:v1");
    expect(r.out).not.toContain("pod-template-hash");
    const missing = await tug(seeded(), ["rollout", "history", "deploy/web", "--revision=7"]);
    expect(missing.err).toBe("error: unable to find the specified revision\n");
  });

  it("undo writes the previous revision's template; again it is skipped", async () => {
    const client = seeded();
    expect(await tug(client, ["rollout", "undo", "deployment/web"])).toEqual({
      code: 0,
      out: "deployment.apps/web rolled back\n",
      err: "",
    });
    const d = client.objects.get("apps/deployments/default/web") as JsonObject;
    expect(JSON.stringify(d)).toContain("tug/web:v1");
    expect(JSON.stringify(d)).not.toContain("pod-template-hash");
    expect((await tug(client, ["rollout", "undo", "deployment/web", "--to-revision=1"])).out).toBe(
      "deployment.apps/web skipped rollback (current template already matches revision 1)\n",
    );
    const missing = await tug(client, ["rollout", "undo", "deployment/web", "--to-revision=9"]);
    expect(missing).toMatchObject({
      code: 1,
      err: "error: unable to find specified revision 9 in history\n",
    });
  });

  it("undo refuses a paused deployment", async () => {
    const client = new FakeClient();
    client.seed(deployment({}, { paused: true }));
    const r = await tug(client, ["rollout", "undo", "deployment/web"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("you cannot rollback a paused deployment");
  });
});

describe("tug rollout pause, resume, restart", () => {
  it("pauses and resumes with kubectl's texts, refusing a repeat", async () => {
    const client = new FakeClient();
    client.seed(deployment({}));
    expect((await tug(client, ["rollout", "pause", "deployment/web"])).out).toBe(
      "deployment.apps/web paused\n",
    );
    expect((await tug(client, ["rollout", "pause", "deployment/web"])).err).toBe(
      'error: deployments.apps "web" is already paused\n',
    );
    const restart = await tug(client, ["rollout", "restart", "deployment/web"]);
    expect(restart.err).toBe(
      `error: deployments.apps "web" can't restart paused deployment (run rollout resume first)\n`,
    );
    expect((await tug(client, ["rollout", "resume", "deployment/web"])).out).toBe(
      "deployment.apps/web resumed\n",
    );
    expect((await tug(client, ["rollout", "resume", "deployment/web"])).err).toBe(
      'error: deployments.apps "web" is not paused\n',
    );
  });

  it("restart stamps the pod template with restartedAt", async () => {
    const client = new FakeClient();
    client.seed(deployment({}));
    expect((await tug(client, ["rollout", "restart", "deployment/web"])).out).toBe(
      "deployment.apps/web restarted\n",
    );
    const d = client.objects.get("apps/deployments/default/web") as JsonObject;
    const annotations = ((d.spec as JsonObject).template as JsonObject).metadata as JsonObject;
    expect(annotations.annotations).toEqual({
      "kubectl.kubernetes.io/restartedAt": "2024-05-01T12:00:00Z",
    });
  });
});
