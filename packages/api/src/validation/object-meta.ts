// ObjectMeta validation on create and update, as k8s.io/apimachinery/pkg/api/validation
// (ValidateObjectMeta, ValidateObjectMetaUpdate, ValidateAnnotations, ValidateOwnerReferences,
// ValidateFinalizers) words it.
// Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ObjectMeta, OwnerReference } from "../gen/tug/meta/v1/meta_pb.js";
import { validateLabels } from "../labels/label-validation.js";
import { FieldError, type FieldPath } from "./field-error.js";
import { immutable, invalidEach, nonNegative } from "./field-rules.js";
import { isQualifiedName, type NameValidator, nameIsDnsLabel } from "./names.js";

/** TotalAnnotationSizeLimitB: keys and values of all annotations together, 256 KiB. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Finalizers Kubernetes itself defines, which need no domain prefix. */
const STANDARD_FINALIZERS: ReadonlySet<string> = new Set([
  "kubernetes",
  "orphan",
  "foregroundDeletion",
]);

const utf8 = new TextEncoder();

/** How the metadata of one kind is checked. */
export interface MetaRules {
  /** Namespaced kinds require metadata.namespace; cluster-scoped ones forbid it. */
  readonly namespaced: boolean;
  /** The rule for metadata.name and metadata.generateName. */
  readonly nameRule: NameValidator;
}

/**
 * ValidateObjectMeta: name (or, when the name is left to the API server, generateName) by the
 * kind's rule; namespace required for a
 * namespaced kind, forbidden for a cluster-scoped one; generation >= 0; labels, annotations,
 * owner references and finalizers.
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  rules: MetaRules,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta?.name ?? "";
  const generateName = meta?.generateName ?? "";
  if (generateName !== "") {
    for (const problem of rules.nameRule(generateName, true)) {
      errs.push(FieldError.invalid(path.child("generateName"), generateName, problem));
    }
  }
  if (name === "") {
    // The API server generates the name from generateName on create.
    if (generateName === "") {
      errs.push(FieldError.required(path.child("name"), "name or generateName is required"));
    }
  } else {
    for (const problem of rules.nameRule(name, false)) {
      errs.push(FieldError.invalid(path.child("name"), name, problem));
    }
  }
  const namespace = meta?.namespace ?? "";
  if (rules.namespaced) {
    if (namespace === "") {
      errs.push(FieldError.required(path.child("namespace")));
    } else {
      for (const problem of nameIsDnsLabel(namespace, false)) {
        errs.push(FieldError.invalid(path.child("namespace"), namespace, problem));
      }
    }
  } else if (namespace !== "") {
    errs.push(FieldError.forbidden(path.child("namespace"), "not allowed on this type"));
  }
  if (meta === undefined) return errs;
  errs.push(...nonNegative(meta.generation, path.child("generation")));
  errs.push(...validateLabels(meta.labels, path.child("labels")));
  errs.push(...validateAnnotations(meta.annotations, path.child("annotations")));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child("ownerReferences")));
  errs.push(...validateFinalizers(meta.finalizers, path.child("finalizers")));
  return errs;
}

/**
 * ValidateAnnotations: every key a qualified name (checked lower-cased, as Kubernetes does),
 * and keys plus values at most 256 KiB in all.
 */
export function validateAnnotations(
  annotations: Readonly<Record<string, string>>,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const problem of isQualifiedName(key.toLowerCase())) {
      errs.push(FieldError.invalid(path, key, problem));
    }
    total += utf8.encode(key).length + utf8.encode(value).length;
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errs.push(FieldError.tooLong(path, "", TOTAL_ANNOTATION_SIZE_LIMIT));
  }
  return errs;
}

/**
 * ValidateOwnerReferences: apiVersion, kind, name and uid set on each; no core "List" kind;
 * at most one reference with controller true.
 */
export function validateOwnerReferences(
  references: readonly OwnerReference[],
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  for (const ref of references) {
    const slash = ref.apiVersion.lastIndexOf("/");
    const group = slash < 0 ? "" : ref.apiVersion.slice(0, slash);
    const version = slash < 0 ? ref.apiVersion : ref.apiVersion.slice(slash + 1);
    if (version === "") {
      errs.push(FieldError.invalid(path.child("apiVersion"), version, "version must not be empty"));
    }
    if (ref.kind === "") {
      errs.push(FieldError.invalid(path.child("kind"), ref.kind, "kind must not be empty"));
    }
    if (ref.name === "") {
      errs.push(FieldError.invalid(path.child("name"), ref.name, "name must not be empty"));
    }
    if (ref.uid === "") {
      errs.push(FieldError.invalid(path.child("uid"), ref.uid, "uid must not be empty"));
    }
    if (group === "" && ref.kind === "List") {
      errs.push(FieldError.invalid(path.child("kind"), ref.kind, "List is not a valid kind"));
    }
    if (ref.controller === true) controllers.push(`${ref.kind}/${ref.name}`);
  }
  if (controllers.length > 1) {
    errs.push(
      FieldError.invalid(
        path,
        references.map((r) => `${r.kind}/${r.name}`),
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(" and ")}`,
      ),
    );
  }
  return errs;
}

/**
 * ValidateFinalizers: each a qualified name, and either fully qualified (with a '/') or one
 * of Kubernetes' standard finalizers; "orphan" and "foregroundDeletion" exclude each other.
 */
export function validateFinalizers(finalizers: readonly string[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  finalizers.forEach((finalizer, i) => {
    const at = path.index(i);
    const problems = isQualifiedName(finalizer);
    errs.push(...invalidEach(finalizer, at, () => problems));
    if (problems.length === 0 && !finalizer.includes("/") && !STANDARD_FINALIZERS.has(finalizer)) {
      errs.push(
        FieldError.invalid(
          at,
          finalizer,
          "name is neither a standard finalizer name nor is it fully qualified",
        ),
      );
    }
  });
  if (finalizers.includes("orphan") && finalizers.includes("foregroundDeletion")) {
    errs.push(
      FieldError.invalid(
        path,
        [...finalizers],
        "finalizer orphan and foregroundDeletion cannot be both set",
      ),
    );
  }
  return errs;
}

/**
 * ValidateObjectMetaUpdate: name, namespace, uid and creationTimestamp never change;
 * generation never goes negative; a set deletionTimestamp and deletionGracePeriodSeconds stay.
 * Labels, annotations, owner references and finalizers of the new object are re-validated.
 */
export function validateObjectMetaUpdate(
  next: ObjectMeta | undefined,
  old: ObjectMeta | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...immutable(next?.name ?? "", old?.name ?? "", path.child("name")));
  errs.push(...immutable(next?.namespace ?? "", old?.namespace ?? "", path.child("namespace")));
  errs.push(...immutable(next?.uid ?? "", old?.uid ?? "", path.child("uid")));
  const created = (m: ObjectMeta | undefined) =>
    m?.creationTimestamp === undefined
      ? null
      : new Date(timestampMs(m.creationTimestamp)).toISOString();
  errs.push(...immutable(created(next), created(old), path.child("creationTimestamp")));
  const deleted = (m: ObjectMeta | undefined) =>
    m?.deletionTimestamp === undefined
      ? null
      : new Date(timestampMs(m.deletionTimestamp)).toISOString();
  if (old?.deletionTimestamp !== undefined) {
    errs.push(...immutable(deleted(next), deleted(old), path.child("deletionTimestamp")));
  }
  if (old?.deletionGracePeriodSeconds !== undefined) {
    errs.push(
      ...immutable(
        next?.deletionGracePeriodSeconds ?? null,
        old.deletionGracePeriodSeconds,
        path.child("deletionGracePeriodSeconds"),
      ),
    );
  }
  if (next !== undefined) {
    errs.push(...nonNegative(next.generation, path.child("generation")));
    errs.push(...validateLabels(next.labels, path.child("labels")));
    errs.push(...validateAnnotations(next.annotations, path.child("annotations")));
    errs.push(...validateOwnerReferences(next.ownerReferences, path.child("ownerReferences")));
    errs.push(...validateFinalizers(next.finalizers, path.child("finalizers")));
  }
  return errs;
}
