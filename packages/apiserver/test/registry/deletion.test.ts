import type { Namespace, Pod } from "@tug/api";
import { describe, expect, it } from "vitest";
import type { ApiObject } from "../../src/registry/api-object.js";
import {
  type DeleteOptions,
  decideDelete,
  NAMESPACE_TERMINATING_CONFLICT,
  removeAfterUpdate,
} from "../../src/registry/deletion.js";
import { strategyFor } from "../../src/registry/strategy.js";
import { isApiError } from "../../src/storage/errors.js";
import { kind, NOW, NOW_SECONDS, obj, testEnv } from "./support.js";

const ts = (seconds: bigint) =>
  new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");

interface PodShape {
  nodeName?: string;
  phase?: string;
  grace?: number;
  finalizers?: string[];
  deletionAt?: bigint;
  deletionGrace?: number;
  generation?: number;
}

function pod(shape: PodShape = {}): Pod {
  return obj<Pod>({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "u1",
      resourceVersion: "7",
      generation: shape.generation ?? 1,
      ...(shape.finalizers === undefined ? {} : { finalizers: shape.finalizers }),
      ...(shape.deletionAt === undefined ? {} : { deletionTimestamp: ts(shape.deletionAt) }),
      ...(shape.deletionGrace === undefined
        ? {}
        : { deletionGracePeriodSeconds: shape.deletionGrace }),
    },
    spec: {
      containers: [{ name: "c", image: "i" }],
      ...(shape.nodeName === undefined ? {} : { nodeName: shape.nodeName }),
      ...(shape.grace === undefined ? {} : { terminationGracePeriodSeconds: shape.grace }),
    },
    status: { phase: shape.phase ?? "Running" },
  });
}

const pods = strategyFor(kind("pods"), testEnv());

describe("preconditions", () => {
  it.each([
    {
      preconditions: { uid: "other" },
      message:
        'Operation cannot be fulfilled on pods "web": Precondition failed: UID in precondition: other, UID in object meta: u1',
    },
    {
      preconditions: { resourceVersion: "6" },
      message:
        'Operation cannot be fulfilled on pods "web": Precondition failed: ResourceVersion in precondition: 6, ResourceVersion in object meta: 7',
    },
    { preconditions: { uid: "u1", resourceVersion: "7" }, message: undefined },
  ])("$preconditions", ({ preconditions, message }) => {
    const run = () => decideDelete(pods, pod(), { preconditions }, NOW);
    if (message === undefined) {
      expect(run().action).toBe("remove");
      return;
    }
    try {
      run();
      expect.unreachable();
    } catch (err) {
      expect(isApiError(err, "Conflict")).toBe(true);
      expect((err as Error).message).toBe(message);
    }
  });

  it("rejects an unknown propagation policy", () => {
    expect(() => decideDelete(pods, pod(), { propagationPolicy: "Cascade" }, NOW)).toThrow(
      'propagationPolicy: Unsupported value: "Cascade": supported values: "Foreground", "Background", "Orphan"',
    );
  });
});

describe("graceful deletion of pods", () => {
  it.each<{
    name: string;
    shape: PodShape;
    options: DeleteOptions;
    action: string;
    reason: string;
    at?: bigint;
    grace?: number;
  }>([
    { name: "unbound pod", shape: {}, options: {}, action: "remove", reason: "immediate" },
    {
      name: "bound, default 30 s",
      shape: { nodeName: "n1" },
      options: {},
      action: "update",
      reason: "graceful",
      at: NOW_SECONDS + 30n,
      grace: 30,
    },
    {
      name: "bound, spec grace 10",
      shape: { nodeName: "n1", grace: 10 },
      options: {},
      action: "update",
      reason: "graceful",
      at: NOW_SECONDS + 10n,
      grace: 10,
    },
    {
      name: "bound, request grace 5",
      shape: { nodeName: "n1", grace: 10 },
      options: { gracePeriodSeconds: 5 },
      action: "update",
      reason: "graceful",
      at: NOW_SECONDS + 5n,
      grace: 5,
    },
    {
      name: "negative grace is 1 s",
      shape: { nodeName: "n1" },
      options: { gracePeriodSeconds: -3 },
      action: "update",
      reason: "graceful",
      at: NOW_SECONDS + 1n,
      grace: 1,
    },
    {
      name: "grace 0",
      shape: { nodeName: "n1" },
      options: { gracePeriodSeconds: 0 },
      action: "remove",
      reason: "immediate",
    },
    {
      name: "Succeeded",
      shape: { nodeName: "n1", phase: "Succeeded" },
      options: {},
      action: "remove",
      reason: "immediate",
    },
    {
      name: "Failed",
      shape: { nodeName: "n1", phase: "Failed" },
      options: {},
      action: "remove",
      reason: "immediate",
    },
    {
      name: "pending, longer grace",
      shape: { nodeName: "n1", deletionAt: NOW_SECONDS + 20n, deletionGrace: 20 },
      options: { gracePeriodSeconds: 60 },
      action: "keep",
      reason: "graceful-pending",
      at: NOW_SECONDS + 20n,
      grace: 20,
    },
    {
      name: "pending, no grace given",
      shape: { nodeName: "n1", deletionAt: NOW_SECONDS + 20n, deletionGrace: 20 },
      options: {},
      action: "keep",
      reason: "graceful-pending",
      at: NOW_SECONDS + 20n,
      grace: 20,
    },
    {
      name: "pending, shorter grace",
      shape: { nodeName: "n1", deletionAt: NOW_SECONDS + 20n, deletionGrace: 30 },
      options: { gracePeriodSeconds: 5 },
      action: "update",
      reason: "graceful-shortened",
      at: NOW_SECONDS - 5n,
      grace: 5,
    },
    {
      name: "pending, grace 0 (the agent's last delete)",
      shape: { nodeName: "n1", deletionAt: NOW_SECONDS, deletionGrace: 30 },
      options: { gracePeriodSeconds: 0 },
      action: "remove",
      reason: "immediate",
    },
    {
      name: "marked with grace 0 but not removed: finish",
      shape: { nodeName: "n1", deletionAt: NOW_SECONDS, deletionGrace: 0 },
      options: {},
      action: "remove",
      reason: "immediate",
    },
  ])("$name -> $action ($reason)", ({ shape, options, action, reason, at, grace }) => {
    const stored = pod(shape);
    const d = decideDelete(pods, stored, options, NOW);
    expect(d.action).toBe(action);
    expect(d.reason).toBe(reason);
    if (at !== undefined) {
      expect(d.object.metadata?.deletionTimestamp?.seconds).toBe(at);
      expect(d.object.metadata?.deletionGracePeriodSeconds).toBe(grace);
    }
    if (action === "remove" || action === "keep") expect(d.object).toBe(stored);
  });

  it("bumps generation when it starts a graceful deletion, and never mutates the stored object", () => {
    const stored = pod({ nodeName: "n1", generation: 3 });
    const d = decideDelete(pods, stored, {}, NOW);
    expect(d.object.metadata?.generation).toBe(4);
    expect(stored.metadata?.generation).toBe(3);
    expect(stored.metadata?.deletionTimestamp).toBeUndefined();
  });
});

describe("finalizers and propagation", () => {
  const cm = (finalizers: string[] = [], extra: Record<string, unknown> = {}) =>
    obj({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "default", finalizers, ...extra },
    });
  const job = (finalizers: string[] = []) =>
    obj({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "default", finalizers, generation: 2 },
    });

  it.each<{
    name: string;
    stored: () => ApiObject;
    options: DeleteOptions;
    action: string;
    finalizers?: string[];
  }>([
    { name: "no finalizers", stored: () => cm(), options: {}, action: "remove" },
    {
      name: "Background adds nothing",
      stored: () => cm(),
      options: { propagationPolicy: "Background" },
      action: "remove",
    },
    {
      name: "a finalizer keeps it",
      stored: () => cm(["example.com/x"]),
      options: {},
      action: "update",
      finalizers: ["example.com/x"],
    },
    {
      name: "Orphan",
      stored: () => cm(),
      options: { propagationPolicy: "Orphan" },
      action: "update",
      finalizers: ["orphan"],
    },
    {
      name: "Foreground",
      stored: () => cm(["a/b"]),
      options: { propagationPolicy: "Foreground" },
      action: "update",
      finalizers: ["a/b", "foregroundDeletion"],
    },
    {
      name: "Foreground replaces orphan",
      stored: () => cm(["orphan"]),
      options: { propagationPolicy: "Foreground" },
      action: "update",
      finalizers: ["foregroundDeletion"],
    },
    {
      name: "Background removes both",
      stored: () => cm(["orphan", "a/b"]),
      options: { propagationPolicy: "Background" },
      action: "update",
      finalizers: ["a/b"],
    },
    {
      name: "Background removes the last one",
      stored: () => cm(["orphan"]),
      options: { propagationPolicy: "Background" },
      action: "remove",
    },
    {
      name: "Job default is Orphan (batch/v1)",
      stored: () => job(),
      options: {},
      action: "update",
      finalizers: ["orphan"],
    },
    {
      name: "Job with Background",
      stored: () => job(),
      options: { propagationPolicy: "Background" },
      action: "remove",
    },
    {
      name: "existing foregroundDeletion stays without a policy",
      stored: () => job(["foregroundDeletion"]),
      options: {},
      action: "update",
      finalizers: ["foregroundDeletion"],
    },
  ])("$name -> $action $finalizers", ({ stored, options, action, finalizers }) => {
    const o = stored();
    const d = decideDelete(
      strategyFor(kind(o.kind === "Job" ? "jobs" : "configmaps"), testEnv()),
      o,
      options,
      NOW,
    );
    expect(d.action).toBe(action);
    if (finalizers !== undefined) {
      expect(d.reason).toBe("finalizers");
      expect(d.object.metadata?.finalizers).toEqual(finalizers);
      expect(d.object.metadata?.deletionTimestamp?.seconds).toBe(NOW_SECONDS);
      expect(d.object.metadata?.deletionGracePeriodSeconds).toBe(0);
    }
  });

  it("a second delete of an object waiting for finalizers changes nothing", () => {
    const first = decideDelete(strategyFor(kind("configmaps"), testEnv()), cm(["a/b"]), {}, NOW);
    const later = new Date(NOW.getTime() + 60_000);
    const second = decideDelete(
      strategyFor(kind("configmaps"), testEnv()),
      first.object,
      {},
      later,
    );
    expect(second.action).toBe("keep");
    expect(second.object.metadata?.deletionTimestamp?.seconds).toBe(NOW_SECONDS);
  });

  it("a pod with a finalizer and grace 0 is marked, not removed", () => {
    const d = decideDelete(
      pods,
      pod({ nodeName: "n1", finalizers: ["a/b"] }),
      { gracePeriodSeconds: 0 },
      NOW,
    );
    expect(d.action).toBe("update");
    expect(d.reason).toBe("finalizers");
    expect(d.object.metadata?.deletionGracePeriodSeconds).toBe(0);
  });

  it("a bound pod with a finalizer is deleted gracefully and keeps its finalizer", () => {
    const d = decideDelete(pods, pod({ nodeName: "n1", finalizers: ["a/b"] }), {}, NOW);
    expect(d.reason).toBe("graceful");
    expect(d.object.metadata?.finalizers).toEqual(["a/b"]);
  });
});

describe("removeAfterUpdate", () => {
  it.each<{ name: string; old: PodShape; next: PodShape; want: boolean }>([
    {
      name: "last finalizer removed",
      old: { finalizers: ["a/b"], deletionAt: NOW_SECONDS, deletionGrace: 0 },
      next: { deletionAt: NOW_SECONDS, deletionGrace: 0 },
      want: true,
    },
    {
      name: "a finalizer remains",
      old: { finalizers: ["a/b", "c/d"], deletionAt: NOW_SECONDS, deletionGrace: 0 },
      next: { finalizers: ["c/d"], deletionAt: NOW_SECONDS, deletionGrace: 0 },
      want: false,
    },
    { name: "not being deleted", old: { finalizers: ["a/b"] }, next: {}, want: false },
    {
      name: "had no finalizers",
      old: { deletionAt: NOW_SECONDS, deletionGrace: 0 },
      next: { deletionAt: NOW_SECONDS, deletionGrace: 0 },
      want: false,
    },
    {
      name: "graceful deletion pending",
      old: { finalizers: ["a/b"], deletionAt: NOW_SECONDS, deletionGrace: 30 },
      next: { deletionAt: NOW_SECONDS, deletionGrace: 30 },
      want: false,
    },
  ])("$name -> $want", ({ old, next, want }) => {
    expect(removeAfterUpdate(pod(next), pod(old))).toBe(want);
  });

  it("a namespace also waits for spec.finalizers", () => {
    const ns = (finalizers: string[], spec: string[]) =>
      obj<Namespace>({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "t",
          finalizers,
          deletionTimestamp: ts(NOW_SECONDS),
          deletionGracePeriodSeconds: 0,
        },
        spec: { finalizers: spec },
      });
    expect(removeAfterUpdate(ns([], ["kubernetes"]), ns(["a/b"], ["kubernetes"]))).toBe(false);
    expect(removeAfterUpdate(ns([], []), ns(["a/b"], []))).toBe(true);
  });
});

describe("namespaces", () => {
  const namespaces = strategyFor(kind("namespaces"), testEnv());
  const ns = (spec: string[], extra: Record<string, unknown> = {}) =>
    obj<Namespace>({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team", uid: "u", ...extra },
      spec: { finalizers: spec },
      status: { phase: "Active" },
    });

  it("the first delete marks it Terminating while spec.finalizers remain", () => {
    const d = decideDelete(namespaces, ns(["kubernetes"]), {}, NOW);
    expect(d.action).toBe("update");
    expect(d.reason).toBe("namespace-terminating");
    const out = d.object as unknown as Namespace;
    expect(out.status?.phase).toBe("Terminating");
    expect(out.metadata?.deletionTimestamp?.seconds).toBe(NOW_SECONDS);
  });

  it("a second delete while spec.finalizers remain is a Conflict with Kubernetes' text", () => {
    const terminating = decideDelete(namespaces, ns(["kubernetes"]), {}, NOW).object;
    try {
      decideDelete(namespaces, terminating, {}, NOW);
      expect.unreachable();
    } catch (err) {
      expect(isApiError(err, "Conflict")).toBe(true);
      expect((err as Error).message).toBe(
        `Operation cannot be fulfilled on namespaces "team": ${NAMESPACE_TERMINATING_CONFLICT}`,
      );
    }
  });

  it("once finalized, it is removed", () => {
    const terminating = ns([], { deletionTimestamp: ts(NOW_SECONDS) });
    expect(decideDelete(namespaces, terminating, {}, NOW).action).toBe("remove");
  });

  it("without finalizers it goes at once", () => {
    expect(decideDelete(namespaces, ns([]), {}, NOW).action).toBe("remove");
  });

  it("Orphan on a namespace adds the orphan finalizer too", () => {
    const d = decideDelete(namespaces, ns([]), { propagationPolicy: "Orphan" }, NOW);
    expect(d.action).toBe("update");
    expect(d.object.metadata?.finalizers).toEqual(["orphan"]);
  });
});
