import { applyDefaults, type JsonObject, objectFromJson, objectToJson } from "@tug/api";
import { describe, expect, it } from "vitest";
import {
  LAST_APPLIED_ANNOTATION,
  lastApplied,
  patchChangesNothing,
  planApply,
  withLastApplied,
} from "../../src/commands/apply-plan.js";

const manifest: JsonObject = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cfg", namespace: "default", labels: { app: "web" } },
  data: { a: "1", b: "2" },
};

/** What the server holds after creating `object`: plus the fields only it writes. */
function live(object: JsonObject, extra: JsonObject = {}): JsonObject {
  const copy = structuredClone(object);
  (copy.metadata as JsonObject).uid = "u1";
  (copy.metadata as JsonObject).resourceVersion = "7";
  return { ...copy, ...extra };
}

describe("planApply", () => {
  it("creates a missing object, recording the manifest in the last-applied annotation", () => {
    const plan = planApply(manifest, undefined);
    expect(plan.action).toBe("create");
    if (plan.action !== "create") return;
    expect(lastApplied(plan.object)).toEqual(manifest);
    expect((plan.object.metadata as JsonObject).labels).toEqual({ app: "web" });
  });

  it("sends nothing when the manifest matches what was applied, whatever the server added", () => {
    const current = live(withLastApplied(manifest), { status: { phase: "Bound" } });
    expect(planApply(manifest, current)).toEqual({ action: "unchanged" });
  });

  it("patches changed and removed fields, and keeps fields only the cluster wrote", () => {
    const current = live(withLastApplied(manifest));
    (current.data as JsonObject).c = "written by someone else";
    const next: JsonObject = { ...manifest, data: { a: "10" } };
    const plan = planApply(next, current);
    expect(plan.action).toBe("patch");
    if (plan.action !== "patch") return;
    const { metadata, ...rest } = plan.patch;
    expect(rest).toEqual({ data: { a: "10", b: null } });
    expect(
      JSON.parse(
        ((metadata as JsonObject).annotations as JsonObject)[LAST_APPLIED_ANNOTATION] as string,
      ),
    ).toEqual(next);
  });

  it("takes over an object created without apply: sets fields, deletes nothing", () => {
    const current = live(manifest);
    (current.data as JsonObject).extra = "x";
    const plan = planApply({ ...manifest, data: { a: "1" } }, current);
    expect(plan.action).toBe("patch");
    if (plan.action !== "patch") return;
    expect(plan.patch.data).toBeUndefined();
    expect(Object.keys((plan.patch.metadata as JsonObject).annotations as JsonObject)).toEqual([
      LAST_APPLIED_ANNOTATION,
    ]);
  });

  it("does not record server-written metadata or status in the annotation", () => {
    const exported = live(manifest, { status: { phase: "x" } });
    const recorded = lastApplied(withLastApplied(exported)) as JsonObject;
    expect(recorded.status).toBeUndefined();
    expect((recorded.metadata as JsonObject).resourceVersion).toBeUndefined();
    expect((recorded.metadata as JsonObject).uid).toBeUndefined();
  });
});

describe("planApply with the server's defaults", () => {
  const pod: JsonObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default" },
    spec: { containers: [{ name: "app", image: "tug/busybox:latest" }] },
  };

  it("calls a manifest unchanged when only defaults inside its lists differ", () => {
    // The live pod as the server stores it: the manifest with Kubernetes' defaults filled in.
    const current = live(objectToJson(applyDefaults(objectFromJson(withLastApplied(pod)))));
    const container = ((current.spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    expect(container.imagePullPolicy).toBe("Always");
    const patch = { spec: { containers: (pod.spec as JsonObject).containers as JsonObject[] } };
    expect(patchChangesNothing(current, patch)).toBe(true);
    expect(planApply(pod, current)).toEqual({ action: "unchanged" });
  });

  it("still patches a real change inside a list", () => {
    const current = live(withLastApplied(pod));
    const changed = structuredClone(pod);
    (((changed.spec as JsonObject).containers as JsonObject[])[0] as JsonObject).image =
      "tug/busybox:v2";
    expect(planApply(changed, current).action).toBe("patch");
  });
});
