// PersistentVolume, PersistentVolumeClaim and StorageClass validation
// (k8s.io/kubernetes/pkg/apis/core/validation: ValidatePersistentVolume(Spec),
// ValidatePersistentVolumeClaimSpec, ValidatePersistentVolumeClaimUpdate;
// pkg/apis/storage/validation: ValidateStorageClass(Update)).
// Reference: https://kubernetes.io/docs/concepts/storage/persistent-volumes/

import { clone, equals } from "@bufbuild/protobuf";
import {
  type PersistentVolume,
  type PersistentVolumeClaim,
  type PersistentVolumeClaimSpec,
  PersistentVolumeClaimSpecSchema,
} from "../gen/tug/core/v1/persistent_volume_pb.js";
import type { StorageClass } from "../gen/tug/storage/v1/storage_class_pb.js";
import { validateLabelName, validateLabelSelector } from "../labels/label-validation.js";
import { FieldError, type FieldPath, root } from "./field-error.js";
import { dnsSubdomain, immutable, oneOf, qualifiedName, requiredString } from "./field-rules.js";
import { validateNodeSelector } from "./scheduling-validation.js";
import { noBacksteps, positiveQuantity } from "./volume-validation.js";

export const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES = ["Block", "Filesystem"];
const RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"];
/** The total size of a StorageClass's parameters: 256 KiB. */
const MAX_PARAMETERS_SIZE = 256 * 1024;

function validateAccessModes(
  modes: readonly string[],
  path: FieldPath,
  required: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (modes.length === 0) errs.push(FieldError.required(path, required));
  for (const mode of modes) {
    if (!ACCESS_MODES.includes(mode)) errs.push(FieldError.notSupported(path, mode, ACCESS_MODES));
  }
  if (modes.includes("ReadWriteOncePod") && modes.length > 1) {
    errs.push(FieldError.forbidden(path, "may not use ReadWriteOncePod with other access modes"));
  }
  return errs;
}

/**
 * ValidatePersistentVolumeSpec: accessModes, capacity (storage only, > 0), reclaim policy,
 * storageClassName, volumeMode, exactly one source (hostPath, nfs or local; local needs
 * nodeAffinity), node affinity terms.
 */
export function validatePersistentVolumeSpec(volume: PersistentVolume): FieldError[] {
  const spec = volume.spec;
  const path = root("spec");
  if (spec === undefined) return [FieldError.required(path)];
  const errs = validateAccessModes(spec.accessModes, path.child("accessModes"), "");
  const capacityPath = path.child("capacity");
  const capacity = Object.keys(spec.capacity);
  if (capacity.length === 0) {
    errs.push(FieldError.required(capacityPath));
  } else if (!("storage" in spec.capacity) || capacity.length > 1) {
    errs.push(FieldError.notSupported(capacityPath, spec.capacity, ["storage"]));
  }
  for (const [name, text] of Object.entries(spec.capacity)) {
    errs.push(...positiveQuantity(text, capacityPath.key(name)));
  }
  if (spec.persistentVolumeReclaimPolicy !== "") {
    errs.push(
      ...oneOf(
        spec.persistentVolumeReclaimPolicy,
        RECLAIM_POLICIES,
        path.child("persistentVolumeReclaimPolicy"),
      ),
    );
  }
  if (spec.storageClassName !== "")
    errs.push(...dnsSubdomain(spec.storageClassName, path.child("storageClassName")));
  if (spec.volumeMode !== undefined)
    errs.push(...oneOf(spec.volumeMode, VOLUME_MODES, path.child("volumeMode")));
  let sources = 0;
  const source = (field: string, set: boolean, check: () => FieldError[]) => {
    if (!set) return;
    if (sources > 0) {
      errs.push(FieldError.forbidden(path.child(field), "may not specify more than 1 volume type"));
      return;
    }
    sources++;
    errs.push(...check());
  };
  source("hostPath", spec.hostPath !== undefined, () => [
    ...requiredString(spec.hostPath?.path, path.child("hostPath", "path")),
    ...noBacksteps(spec.hostPath?.path ?? "", path.child("hostPath", "path")),
  ]);
  source("nfs", spec.nfs !== undefined, () => [
    ...requiredString(spec.nfs?.server, path.child("nfs", "server")),
    ...requiredString(spec.nfs?.path, path.child("nfs", "path")),
  ]);
  source("local", spec.local !== undefined, () => {
    const out = requiredString(spec.local?.path, path.child("local", "path"));
    if (spec.nodeAffinity === undefined) {
      out.push(
        FieldError.required(path.child("nodeAffinity"), "Local volume requires node affinity"),
      );
    }
    return out;
  });
  if (sources === 0) errs.push(FieldError.required(path, "must specify a volume type"));
  const required = spec.nodeAffinity?.required;
  if (required !== undefined) {
    errs.push(...validateNodeSelector(required, path.child("nodeAffinity", "required")));
  }
  return errs;
}

/**
 * ValidatePersistentVolumeClaimSpec: at least one valid access mode, a selector, a storage
 * request > 0, a valid storageClassName and volumeMode.
 */
export function validatePersistentVolumeClaimSpec(
  spec: PersistentVolumeClaimSpec | undefined,
  path: FieldPath,
): FieldError[] {
  if (spec === undefined) return [FieldError.required(path)];
  const errs = validateAccessModes(
    spec.accessModes,
    path.child("accessModes"),
    "at least 1 access mode is required",
  );
  errs.push(...validateLabelSelector(spec.selector, path.child("selector")));
  const requestsPath = path.child("resources", "requests");
  const requests = spec.resources?.requests ?? {};
  if (!("storage" in requests)) errs.push(FieldError.required(requestsPath.key("storage")));
  for (const [name, text] of Object.entries(requests)) {
    errs.push(...positiveQuantity(text, requestsPath.key(name)));
  }
  if (spec.storageClassName !== undefined && spec.storageClassName !== "") {
    errs.push(...dnsSubdomain(spec.storageClassName, path.child("storageClassName")));
  }
  if (spec.volumeMode !== undefined)
    errs.push(...oneOf(spec.volumeMode, VOLUME_MODES, path.child("volumeMode")));
  return errs;
}

/** A PVC on create: its spec. */
export function validatePersistentVolumeClaimBody(claim: PersistentVolumeClaim): FieldError[] {
  return validatePersistentVolumeClaimSpec(claim.spec, root("spec"));
}

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is immutable except resources.requests
 * (expansion) and volumeName set once (binding).
 */
export function validatePersistentVolumeClaimUpdate(
  next: PersistentVolumeClaim,
  old: PersistentVolumeClaim,
): FieldError[] {
  if (next.spec === undefined || old.spec === undefined) return [];
  const restored = clone(PersistentVolumeClaimSpecSchema, next.spec);
  restored.resources = old.spec.resources;
  if (old.spec.volumeName === "") restored.volumeName = "";
  if (equals(PersistentVolumeClaimSpecSchema, restored, old.spec)) return [];
  return [
    FieldError.forbidden(
      root("spec"),
      "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
    ),
  ];
}

/**
 * ValidateStorageClass: provisioner required and a qualified name, parameters under 256 KiB,
 * reclaimPolicy Delete or Retain, volumeBindingMode Immediate or WaitForFirstConsumer,
 * allowedTopologies keys label names with values.
 */
export function validateStorageClassBody(storageClass: StorageClass): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = root("provisioner");
  if (storageClass.provisioner === "") errs.push(FieldError.required(provisioner));
  else errs.push(...qualifiedName(storageClass.provisioner.toLowerCase(), provisioner));
  let size = 0;
  for (const [key, value] of Object.entries(storageClass.parameters)) {
    if (key === "")
      errs.push(FieldError.invalid(root("parameters"), key, "field can not be empty."));
    size += key.length + value.length;
  }
  if (size > MAX_PARAMETERS_SIZE)
    errs.push(FieldError.tooLong(root("parameters"), "", MAX_PARAMETERS_SIZE));
  if (storageClass.reclaimPolicy !== undefined) {
    errs.push(...oneOf(storageClass.reclaimPolicy, ["Delete", "Retain"], root("reclaimPolicy")));
  }
  if (storageClass.volumeBindingMode !== undefined) {
    errs.push(
      ...oneOf(
        storageClass.volumeBindingMode,
        ["Immediate", "WaitForFirstConsumer"],
        root("volumeBindingMode"),
      ),
    );
  }
  storageClass.allowedTopologies.forEach((term, i) => {
    const at = root("allowedTopologies").index(i);
    if (term.matchLabelExpressions.length === 0) {
      errs.push(
        FieldError.required(at.child("matchLabelExpressions"), "must contain at least one key"),
      );
    }
    term.matchLabelExpressions.forEach((requirement, j) => {
      const requirementPath = at.child("matchLabelExpressions").index(j);
      errs.push(...validateLabelName(requirement.key, requirementPath.child("key")));
      if (requirement.values.length === 0) {
        errs.push(
          FieldError.required(requirementPath.child("values"), "must specify as least one value"),
        );
      }
    });
  });
  return errs;
}

/** ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and binding mode are fixed. */
export function validateStorageClassUpdate(next: StorageClass, old: StorageClass): FieldError[] {
  const errs: FieldError[] = [];
  if (JSON.stringify(sorted(next.parameters)) !== JSON.stringify(sorted(old.parameters))) {
    errs.push(FieldError.forbidden(root("parameters"), "updates to parameters are forbidden."));
  }
  if (next.provisioner !== old.provisioner) {
    errs.push(FieldError.forbidden(root("provisioner"), "updates to provisioner are forbidden."));
  }
  if (next.reclaimPolicy !== old.reclaimPolicy) {
    errs.push(
      FieldError.forbidden(root("reclaimPolicy"), "updates to reclaimPolicy are forbidden."),
    );
  }
  errs.push(
    ...immutable(
      next.volumeBindingMode ?? null,
      old.volumeBindingMode ?? null,
      root("volumeBindingMode"),
    ),
  );
  return errs;
}

function sorted(map: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
