// Shared helpers of the validation tests: objects from Kubernetes JSON, defaulted, then
// validated, with the error messages as Kubernetes prints them.

import { applyDefaults } from "../../src/defaults/apply-defaults.js";
import { objectFromJson } from "../../src/scheme/object-codec.js";
import { validateObject, validateUpdate } from "../../src/validation/validate-object.js";

export type Json = Record<string, unknown>;

/** The messages of validateObject on the defaulted object. */
export function createErrors(json: Json): string[] {
  return validateObject(applyDefaults(objectFromJson(json))).map((e) => e.message);
}

/** The messages of validateUpdate from `old` to `next`, both defaulted. */
export function updateErrors(next: Json, old: Json): string[] {
  return validateUpdate(
    applyDefaults(objectFromJson(next)),
    applyDefaults(objectFromJson(old)),
  ).map((e) => e.message);
}

/** A valid pod's JSON; `spec` and `metadata` merge over it (one level deep). */
export function pod(spec: Json = {}, metadata: Json = {}): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default", ...metadata },
    spec: { containers: [{ name: "app", image: "tug/app:1" }], ...spec },
  };
}

/** A valid pod template with labels app=web. */
export function template(spec: Json = {}): Json {
  return {
    metadata: { labels: { app: "web" } },
    spec: { containers: [{ name: "app", image: "tug/app:1" }], ...spec },
  };
}

/** An apps/v1 or batch/v1 object of `kind` with `spec`. */
export function workload(apiVersion: string, kind: string, spec: Json, name = "web"): Json {
  return { apiVersion, kind, metadata: { name, namespace: "default" }, spec };
}
