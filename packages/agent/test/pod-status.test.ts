// The pod status computed from the runtime's state: the kubelet's phase rules, container states
// with lastState and reasons, and the conditions with their reasons and transition times.

import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { objectFromJson, type Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import { computePodStatus } from "../src/index.js";
import type { RuntimeContainer, RuntimePod } from "../src/runtime/runtime-pod.js";

function pod(restartPolicy: string, containers: string[], initContainers: string[] = []): Pod {
  return objectFromJson({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "u1" },
    spec: {
      restartPolicy,
      initContainers: initContainers.map((name) => ({ name, image: "i" })),
      containers: containers.map((name) => ({ name, image: "i" })),
    },
    status: {
      phase: "Pending",
      conditions: [
        { type: "PodScheduled", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z" },
      ],
    },
  }) as Pod;
}

let seq = 0;
function container(
  name: string,
  state: RuntimeContainer["state"],
  extra: Partial<RuntimeContainer> = {},
): RuntimeContainer {
  seq++;
  return {
    id: `id${seq}`,
    name,
    kind: "app",
    attempt: 0,
    sandboxId: "sb",
    state,
    createdAtMs: 1_000 + seq,
    startedAtMs: 2_000,
    finishedAtMs: state === "exited" ? 3_000 : 0,
    exitCode: 0,
    reason: state === "exited" ? "Completed" : "",
    message: "",
    image: "i",
    imageRef: "sha256:abc",
    logPath: "",
    annotations: {},
    ...extra,
  };
}

function runtime(containers: RuntimeContainer[]): RuntimePod {
  return {
    uid: "u1",
    name: "p",
    namespace: "default",
    sandboxes: [{ id: "sb", attempt: 0, ready: true, createdAtMs: 1, annotations: {} }],
    containers: [...containers].sort((a, b) => b.attempt - a.attempt),
  };
}

const allReady = { ready: () => true, startupDone: () => true };

function status(
  p: Pod,
  rp: RuntimePod,
  waiting = new Map<string, { reason: string; message: string }>(),
  probes = allReady,
) {
  return computePodStatus({
    pod: p,
    runtime: rp,
    sandboxId: "sb",
    podIp: "10.0.0.5",
    hostIp: "192.168.1.2",
    waiting,
    probes,
    nowMs: 5_000,
  });
}

describe("computePodStatus", () => {
  it("is Pending with ContainerCreating before anything runs", () => {
    const s = status(pod("Always", ["a"]), runtime([]));
    expect(s.phase).toBe("Pending");
    expect(s.containerStatuses[0]?.state?.waiting?.reason).toBe("ContainerCreating");
    expect(s.conditions.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [a]",
    });
    expect(s.conditions.find((c) => c.type === "PodScheduled")?.status).toBe("True");
  });

  it("is Running and Ready with a running ready container; ids, IPs and restart count", () => {
    const s = status(pod("Always", ["a"]), runtime([container("a", "running", { attempt: 2 })]));
    expect(s.phase).toBe("Running");
    const cs = s.containerStatuses[0];
    expect(cs).toMatchObject({
      ready: true,
      started: true,
      restartCount: 2,
      imageId: "sha256:abc",
    });
    expect(cs?.containerId).toMatch(/^docker:\/\/id\d+$/);
    expect(s.podIp).toBe("10.0.0.5");
    expect(s.podIps).toEqual([expect.objectContaining({ ip: "10.0.0.5" })]);
    expect(s.hostIp).toBe("192.168.1.2");
    expect(s.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(s.conditions.find((c) => c.type === "ContainersReady")?.status).toBe("True");
  });

  it("reports CrashLoopBackOff as waiting with the failed run as lastState, and stays Running under Always", () => {
    const failed = container("a", "exited", { attempt: 1, exitCode: 3, reason: "Error" });
    const waiting = new Map([
      [
        "app/a",
        {
          reason: "CrashLoopBackOff",
          message: "back-off 10s restarting failed container=a pod=p_default(u1)",
        },
      ],
    ]);
    const s = status(
      pod("Always", ["a"]),
      runtime([container("a", "exited", { exitCode: 3, reason: "Error" }), failed]),
      waiting,
    );
    expect(s.phase).toBe("Running");
    const cs = s.containerStatuses[0];
    expect(cs?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(cs?.lastState?.terminated).toMatchObject({
      exitCode: 3,
      reason: "Error",
      containerId: `docker://${failed.id}`,
    });
    expect(cs?.restartCount).toBe(1);
  });

  it("follows getPhase for finished containers per restartPolicy", () => {
    const done = (code: number) =>
      runtime([
        container("a", "exited", { exitCode: code, reason: code === 0 ? "Completed" : "Error" }),
      ]);
    expect(status(pod("Never", ["a"]), done(0)).phase).toBe("Succeeded");
    expect(status(pod("Never", ["a"]), done(1)).phase).toBe("Failed");
    expect(status(pod("OnFailure", ["a"]), done(0)).phase).toBe("Succeeded");
    expect(status(pod("OnFailure", ["a"]), done(1)).phase).toBe("Running");
    expect(status(pod("Always", ["a"]), done(0)).phase).toBe("Running");
    const succeeded = status(pod("Never", ["a"]), done(0));
    expect(succeeded.conditions.find((c) => c.type === "Ready")?.reason).toBe("PodCompleted");
    expect(succeeded.containerStatuses[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  });

  it("never moves a pod out of a terminal phase", () => {
    const p = pod("Never", ["a"]);
    if (p.status) p.status.phase = "Failed";
    expect(status(p, runtime([container("a", "running")])).phase).toBe("Failed");
  });

  it("keeps the pod Pending while init containers run, and fails it when one fails under Never", () => {
    const init = (state: RuntimeContainer["state"], exitCode = 0) =>
      container("setup", state, {
        kind: "init",
        exitCode,
        reason: exitCode === 0 ? "Completed" : "Error",
      });
    const running = status(pod("Always", ["a"], ["setup"]), runtime([init("running")]));
    expect(running.phase).toBe("Pending");
    expect(running.containerStatuses[0]?.state?.waiting?.reason).toBe("PodInitializing");
    expect(running.conditions.find((c) => c.type === "Initialized")).toMatchObject({
      status: "False",
      reason: "ContainersNotInitialized",
      message: "containers with incomplete status: [setup]",
    });
    expect(status(pod("Never", ["a"], ["setup"]), runtime([init("exited", 1)])).phase).toBe(
      "Failed",
    );
    const done = status(
      pod("Always", ["a"], ["setup"]),
      runtime([init("exited"), container("a", "running")]),
    );
    expect(done.phase).toBe("Running");
    expect(done.conditions.find((c) => c.type === "Initialized")?.status).toBe("True");
    expect(done.initContainerStatuses[0]).toMatchObject({ ready: true });
  });

  it("follows readiness and keeps lastTransitionTime while a condition holds", () => {
    const p = pod("Always", ["a"]);
    const rp = runtime([container("a", "running")]);
    const notReady = status(p, rp, undefined, { ready: () => false, startupDone: () => true });
    expect(notReady.containerStatuses[0]).toMatchObject({ ready: false, started: true });
    expect(notReady.conditions.find((c) => c.type === "Ready")?.status).toBe("False");
    const earlier = timestampFromMs(1_000);
    p.status = {
      ...notReady,
      conditions: notReady.conditions.map((c) => ({ ...c, lastTransitionTime: earlier })),
    };
    const again = computePodStatus({
      pod: p,
      runtime: rp,
      sandboxId: "sb",
      podIp: "10.0.0.5",
      hostIp: "h",
      waiting: new Map(),
      probes: { ready: () => false, startupDone: () => true },
      nowMs: 9_000,
    });
    expect(again.conditions.find((c) => c.type === "Ready")?.lastTransitionTime).toEqual(earlier);
    const flipped = computePodStatus({
      pod: p,
      runtime: rp,
      sandboxId: "sb",
      podIp: "10.0.0.5",
      hostIp: "h",
      waiting: new Map(),
      probes: allReady,
      nowMs: 9_000,
    });
    expect(flipped.conditions.find((c) => c.type === "Ready")?.lastTransitionTime).toEqual(
      timestampFromMs(9_000),
    );
  });
});
