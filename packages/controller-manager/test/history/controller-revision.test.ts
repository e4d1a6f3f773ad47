// ControllerRevision history as DaemonSets and StatefulSets keep it (Kubernetes' constructHistory
// and truncateHistory): a revision per template, reused and renumbered on rollback, a hash
// collision resolved by collisionCount, old unused revisions pruned beyond the limit.

import { clone, create } from "@bufbuild/protobuf";
import {
  type ControllerRevision,
  ControllerRevisionSchema,
  type PodTemplateSpec,
  PodTemplateSpecSchema,
} from "@tug/api";
import { ApiError } from "@tug/client";
import { describe, expect, it } from "vitest";
import {
  ensureCurrentRevision,
  revisionData,
  revisionHash,
  revisionsToPrune,
} from "../../src/history/controller-revision.js";

function template(image: string): PodTemplateSpec {
  return create(PodTemplateSpecSchema, {
    metadata: { labels: { app: "agent" } },
    spec: { containers: [{ name: "main", image }] },
  });
}

/** ControllerRevisions by name, with the API's AlreadyExists and NotFound. */
function fakeApi(initial: ControllerRevision[] = []) {
  const store = new Map(initial.map((r) => [r.metadata?.name ?? "", r]));
  const error = (reason: string, code: number, name: string) =>
    new ApiError({ reason, code, grpcCode: 0, message: `${reason}: ${name}` });
  const api = {
    async create(_kind: unknown, obj: ControllerRevision) {
      const name = obj.metadata?.name ?? "";
      if (store.has(name)) throw error("AlreadyExists", 409, name);
      const saved = clone(ControllerRevisionSchema, obj);
      if (saved.metadata !== undefined) saved.metadata.uid = `uid-${name}`;
      store.set(name, saved);
      return saved;
    },
    async get(_kind: unknown, name: string) {
      const found = store.get(name);
      if (found === undefined) throw error("NotFound", 404, name);
      return found;
    },
    async update(_kind: unknown, obj: ControllerRevision) {
      store.set(obj.metadata?.name ?? "", obj);
      return obj;
    },
  };
  return { api: api as unknown as Parameters<typeof ensureCurrentRevision>[0], store };
}

const owner = {
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  name: "agent",
  uid: "ds-uid",
  namespace: "default",
  labels: { app: "agent" },
};

describe("ensureCurrentRevision", () => {
  it("creates <owner>-<hash> as revision 1 with the replace patch, labelled with the hash", async () => {
    const { api } = fakeApi();
    const t = template("busybox:1");
    const current = await ensureCurrentRevision(api, owner, [], t, undefined);
    expect(current.hash).toBe(revisionHash(t));
    expect(current.revision.metadata?.name).toBe(`agent-${current.hash}`);
    expect(current.revision.revision).toBe(1);
    expect(current.revision.metadata?.labels).toEqual({
      app: "agent",
      "controller-revision-hash": current.hash,
    });
    expect(current.revision.metadata?.ownerReferences[0]).toMatchObject({
      kind: "DaemonSet",
      uid: "ds-uid",
      controller: true,
    });
    expect(current.revision.data).toMatchObject({ spec: { template: { $patch: "replace" } } });
  });

  it("a new template is the next revision; going back renumbers the old one instead of creating", async () => {
    const { api, store } = fakeApi();
    const one = await ensureCurrentRevision(api, owner, [], template("busybox:1"), undefined);
    const two = await ensureCurrentRevision(
      api,
      owner,
      [one.revision],
      template("busybox:2"),
      undefined,
    );
    expect(two.revision.revision).toBe(2);
    const back = await ensureCurrentRevision(
      api,
      owner,
      [one.revision, two.revision],
      template("busybox:1"),
      undefined,
    );
    expect(back.revision.metadata?.name).toBe(one.revision.metadata?.name);
    expect(back.revision.revision).toBe(3);
    expect(store.size).toBe(2);
  });

  it("a name taken by other data bumps collisionCount and tries the next hash", async () => {
    const t = template("busybox:1");
    const squatter = create(ControllerRevisionSchema, {
      metadata: { name: `agent-${revisionHash(t)}`, namespace: "default" },
      data: revisionData(template("something-else:1")),
      revision: 1,
    });
    const { api } = fakeApi([squatter]);
    const current = await ensureCurrentRevision(api, owner, [], t, undefined);
    expect(current.collisionCount).toBe(1);
    expect(current.hash).toBe(revisionHash(t, 1));
    expect(current.hash).not.toBe(revisionHash(t));
  });

  it("finding its own revision not yet in the cache is not a collision", async () => {
    const { api } = fakeApi();
    const t = template("busybox:1");
    await ensureCurrentRevision(api, owner, [], t, undefined);
    const again = await ensureCurrentRevision(api, owner, [], t, undefined);
    expect(again.collisionCount).toBeUndefined();
    expect(again.hash).toBe(revisionHash(t));
  });
});

describe("revisionsToPrune", () => {
  const rev = (name: string, revision: number) =>
    create(ControllerRevisionSchema, { metadata: { name }, revision });

  it("keeps `limit` old revisions, never one in use, deleting the oldest first", () => {
    const all = [rev("r4", 4), rev("r1", 1), rev("r3", 3), rev("r2", 2), rev("r5", 5)];
    const pruned = revisionsToPrune(all, new Set(["r5", "r1"]), 1);
    expect(pruned.map((r) => r.metadata?.name)).toEqual(["r2", "r3"]);
    expect(revisionsToPrune(all, new Set(["r5"]), 10)).toEqual([]);
  });
});
