// claimObjects: adopt matching orphans, keep owned matches, release owned non-matches, leave
// others' objects alone (Kubernetes' ControllerRefManager).

import { create } from "@bufbuild/protobuf";
import { type Pod, PodSchema } from "@tug/api";
import { describe, expect, it } from "vitest";
import { type ClaimActions, claimObjects, newControllerRef } from "../../src/index.js";

const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "me" };

function pod(name: string, labels: Record<string, string>, controllerUid?: string): Pod {
  return create(PodSchema, {
    metadata: {
      name,
      labels,
      ownerReferences:
        controllerUid === undefined ? [] : [newControllerRef({ ...owner, uid: controllerUid })],
    },
  });
}

function recorder(canAdopt = true) {
  const log: string[] = [];
  const actions: ClaimActions<Pod> = {
    adopt: async (p) => {
      log.push(`adopt ${p.metadata?.name}`);
    },
    release: async (p) => {
      log.push(`release ${p.metadata?.name}`);
    },
    canAdopt: async () => {
      log.push("recheck");
      return canAdopt;
    },
  };
  return { actions, log };
}

const matchesApp = (l: Readonly<Record<string, string>>) => l.app === "web";
const names = (pods: Pod[]) => pods.map((p) => p.metadata?.name);

describe("claimObjects", () => {
  it("keeps, adopts, releases and ignores", async () => {
    const { actions, log } = recorder();
    const claimed = await claimObjects(
      { uid: "me", deleting: false, matches: matchesApp },
      [
        pod("mine", { app: "web" }, "me"),
        pod("orphan", { app: "web" }),
        pod("strayed", { app: "db" }, "me"),
        pod("theirs", { app: "web" }, "other"),
        pod("unrelated", { app: "db" }),
      ],
      actions,
      () => false,
    );
    expect(names(claimed)).toEqual(["mine", "orphan"]);
    expect(log).toEqual(["recheck", "adopt orphan", "release strayed"]);
  });

  it("an owner being deleted adopts and releases nothing", async () => {
    const { actions, log } = recorder();
    const claimed = await claimObjects(
      { uid: "me", deleting: true, matches: matchesApp },
      [pod("mine", { app: "web" }, "me"), pod("orphan", { app: "web" }), pod("x", {}, "me")],
      actions,
      () => false,
    );
    expect(names(claimed)).toEqual(["mine"]);
    expect(log).toEqual([]);
  });

  it("adopts nothing when the fresh read says the owner is gone or replaced", async () => {
    const { actions, log } = recorder(false);
    const claimed = await claimObjects(
      { uid: "me", deleting: false, matches: matchesApp },
      [pod("a", { app: "web" }), pod("b", { app: "web" })],
      actions,
      () => false,
    );
    expect(claimed).toEqual([]);
    expect(log).toEqual(["recheck"]);
  });

  it("skips an object that vanished, and rejects on other failures", async () => {
    const gone = new Error("gone");
    const actions: ClaimActions<Pod> = {
      adopt: (p) => Promise.reject(p.metadata?.name === "a" ? gone : new Error("conflict")),
      release: () => Promise.resolve(),
      canAdopt: () => Promise.resolve(true),
    };
    const isGone = (e: unknown) => e === gone;
    await expect(
      claimObjects(
        { uid: "me", deleting: false, matches: matchesApp },
        [pod("a", { app: "web" })],
        actions,
        isGone,
      ),
    ).resolves.toEqual([]);
    await expect(
      claimObjects(
        { uid: "me", deleting: false, matches: matchesApp },
        [pod("b", { app: "web" })],
        actions,
        isGone,
      ),
    ).rejects.toThrow(/conflict/);
  });
});
