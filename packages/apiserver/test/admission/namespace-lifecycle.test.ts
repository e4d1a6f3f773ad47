import { describe, expect, it } from "vitest";
import type { AdmissionOperation } from "../../src/admission/attributes.js";
import { namespaceLifecycle } from "../../src/admission/namespace-lifecycle.js";
import { obj } from "../registry/support.js";
import { attrs, failure, lookups } from "./support.js";

const configMap = (namespace: string) =>
  obj({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace } });

describe("NamespaceLifecycle", () => {
  const world = lookups({ namespaces: { default: "Active", old: "Terminating" } });
  it.each<{
    name: string;
    op: AdmissionOperation;
    ns: string;
    want?: { reason: string; message: string };
  }>([
    { name: "create in an active namespace", op: "CREATE", ns: "default" },
    {
      name: "create in a missing namespace",
      op: "CREATE",
      ns: "nope",
      want: { reason: "NotFound", message: 'namespaces "nope" not found' },
    },
    {
      name: "update in a missing namespace",
      op: "UPDATE",
      ns: "nope",
      want: { reason: "NotFound", message: 'namespaces "nope" not found' },
    },
    { name: "delete in a missing namespace", op: "DELETE", ns: "nope" },
    {
      name: "create in a terminating namespace",
      op: "CREATE",
      ns: "old",
      want: {
        reason: "Forbidden",
        message:
          'configmaps "cfg" is forbidden: unable to create new content in namespace old because it is being terminated',
      },
    },
    { name: "update in a terminating namespace", op: "UPDATE", ns: "old" },
  ])("$name", async ({ op, ns, want }) => {
    const o = configMap(ns);
    const a = attrs(op, "configmaps", op === "DELETE" ? undefined : o, {
      namespace: ns,
      name: "cfg",
    });
    expect(await failure(() => namespaceLifecycle.mutate!(a, world))).toEqual(want);
  });

  it("allows cluster-scoped objects whatever the namespaces", async () => {
    const node = obj({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    expect(
      await failure(() =>
        namespaceLifecycle.mutate!(attrs("CREATE", "nodes", node), lookups({ namespaces: {} })),
      ),
    ).toBeUndefined();
  });

  it.each([
    { ns: "default", forbidden: true },
    { ns: "kube-system", forbidden: true },
    { ns: "kube-public", forbidden: true },
    { ns: "kube-node-lease", forbidden: false },
    { ns: "team", forbidden: false },
  ])("deleting namespace $ns forbidden: $forbidden", async ({ ns, forbidden }) => {
    const a = attrs("DELETE", "namespaces", undefined, { name: ns });
    const got = await failure(() => namespaceLifecycle.mutate!(a, world));
    expect(got).toEqual(
      forbidden
        ? {
            reason: "Forbidden",
            message: `namespaces "${ns}" is forbidden: this namespace may not be deleted`,
          }
        : undefined,
    );
  });

  it("asks for live lookups of a namespace being deleted, unless the delete is a dry run", async () => {
    const deleting: string[] = [];
    const watching = { ...world, namespaceDeleting: (name: string) => deleting.push(name) };
    await namespaceLifecycle.mutate!(
      attrs("DELETE", "namespaces", undefined, { name: "team" }),
      watching,
    );
    await namespaceLifecycle.mutate!(
      attrs("DELETE", "namespaces", undefined, { name: "rehearsal", dryRun: true }),
      watching,
    );
    await namespaceLifecycle.mutate!(
      attrs("DELETE", "configmaps", undefined, { namespace: "team", name: "cfg" }),
      watching,
    );
    expect(deleting).toEqual(["team"]);
  });

  it("lets a namespace itself be created and updated", async () => {
    const ns = obj({ apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh" } });
    expect(
      await failure(() => namespaceLifecycle.mutate!(attrs("CREATE", "namespaces", ns), world)),
    ).toBeUndefined();
  });
});
