// Pod volume validation (k8s.io/kubernetes/pkg/apis/core/validation: ValidateVolumes,
// validateVolumeSource and the per-source checks).
// Reference: https://kubernetes.io/docs/concepts/storage/volumes/

import type { DownwardAPIVolumeFile, KeyToPath, Volume } from "../gen/tug/core/v1/volume_pb.js";
import { validateObjectFieldSelector, validateResourceFieldSelector } from "./env-validation.js";
import { FieldError, type FieldPath } from "./field-error.js";
import {
  dnsLabel,
  IS_NOT_POSITIVE,
  oneOf,
  parseQuantityAt,
  requiredString,
} from "./field-rules.js";

/** fileModeErrorMsg: modes are 0 to 0777. */
export const FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive";
const MAX_FILE_MODE = 0o777;

/** The downward API fields a volume file may select. */
const VOLUME_DOWNWARD_FIELDS = [
  "metadata.annotations",
  "metadata.labels",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
];

const HOST_PATH_TYPES = [
  "",
  "BlockDevice",
  "CharDevice",
  "Directory",
  "DirectoryOrCreate",
  "File",
  "FileOrCreate",
  "Socket",
];

/**
 * ValidateVolumes: each volume has a DNS-label name, unique in the pod, and exactly one source,
 * itself valid. Returns the errors and the set of names, for volumeMounts to refer to.
 */
export function validateVolumes(
  volumes: readonly Volume[],
  path: FieldPath,
): { errors: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  volumes.forEach((volume, i) => {
    const at = path.index(i);
    errs.push(...validateVolumeSource(volume, at));
    const namePath = at.child("name");
    if (volume.name === "") errs.push(FieldError.required(namePath));
    else errs.push(...dnsLabel(volume.name, namePath));
    if (names.has(volume.name)) errs.push(FieldError.duplicate(namePath, volume.name));
    else names.add(volume.name);
  });
  return { errors: errs, names };
}

function validateVolumeSource(volume: Volume, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
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
  source("hostPath", volume.hostPath !== undefined, () => {
    const hostPath = volume.hostPath;
    if (hostPath === undefined) return [];
    const at = path.child("hostPath");
    return [
      ...requiredString(hostPath.path, at.child("path")),
      ...noBacksteps(hostPath.path, at.child("path")),
      ...oneOf(hostPath.type ?? "", HOST_PATH_TYPES, at.child("type"), { optional: true }),
    ];
  });
  source("emptyDir", volume.emptyDir !== undefined, () => {
    const sizeLimit = volume.emptyDir?.sizeLimit;
    if (sizeLimit === undefined) return [];
    const out: FieldError[] = [];
    const at = path.child("emptyDir", "sizeLimit");
    const quantity = parseQuantityAt(sizeLimit, at, out);
    if (quantity !== undefined && quantity.sign() < 0) {
      out.push(FieldError.forbidden(at, "SizeLimit field must be a valid resource quantity"));
    }
    return out;
  });
  source("secret", volume.secret !== undefined, () => {
    const secret = volume.secret;
    if (secret === undefined) return [];
    const at = path.child("secret");
    return [
      ...requiredString(secret.secretName, at.child("secretName")),
      ...fileMode(secret.defaultMode, at.child("defaultMode")),
      ...keysToPaths(secret.items, at.child("items")),
    ];
  });
  source("configMap", volume.configMap !== undefined, () => {
    const configMap = volume.configMap;
    if (configMap === undefined) return [];
    const at = path.child("configMap");
    return [
      ...requiredString(configMap.name, at.child("name")),
      ...fileMode(configMap.defaultMode, at.child("defaultMode")),
      ...keysToPaths(configMap.items, at.child("items")),
    ];
  });
  source("persistentVolumeClaim", volume.persistentVolumeClaim !== undefined, () =>
    requiredString(
      volume.persistentVolumeClaim?.claimName,
      path.child("persistentVolumeClaim", "claimName"),
    ),
  );
  source("downwardAPI", volume.downwardApi !== undefined, () => {
    const at = path.child("downwardAPI");
    return [
      ...fileMode(volume.downwardApi?.defaultMode, at.child("defaultMode")),
      ...downwardApiFiles(volume.downwardApi?.items ?? [], at.child("items")),
    ];
  });
  source("projected", volume.projected !== undefined, () => {
    const projected = volume.projected;
    if (projected === undefined) return [];
    const at = path.child("projected");
    const out = fileMode(projected.defaultMode, at.child("defaultMode"));
    projected.sources.forEach((projection, i) => {
      const sourcePath = at.child("sources").index(i);
      let kinds = 0;
      const one = (field: string, set: boolean, check: () => FieldError[]) => {
        if (!set) return;
        kinds++;
        if (kinds > 1) {
          out.push(
            FieldError.forbidden(
              sourcePath.child(field),
              "may not specify more than 1 volume type per source",
            ),
          );
          return;
        }
        out.push(...check());
      };
      one("secret", projection.secret !== undefined, () => [
        ...requiredString(projection.secret?.name, sourcePath.child("secret", "name")),
        ...keysToPaths(projection.secret?.items ?? [], sourcePath.child("secret", "items")),
      ]);
      one("configMap", projection.configMap !== undefined, () => [
        ...requiredString(projection.configMap?.name, sourcePath.child("configMap", "name")),
        ...keysToPaths(projection.configMap?.items ?? [], sourcePath.child("configMap", "items")),
      ]);
      one("downwardAPI", projection.downwardApi !== undefined, () =>
        downwardApiFiles(
          projection.downwardApi?.items ?? [],
          sourcePath.child("downwardAPI", "items"),
        ),
      );
      one("serviceAccountToken", projection.serviceAccountToken !== undefined, () => {
        const token = projection.serviceAccountToken;
        if (token === undefined) return [];
        const tokenPath = sourcePath.child("serviceAccountToken");
        const tokenErrs = [
          ...requiredString(token.path, tokenPath.child("path")),
          ...localNonReservedPath(token.path, tokenPath.child("path")),
        ];
        const seconds = token.expirationSeconds;
        if (seconds !== undefined && seconds < 600) {
          tokenErrs.push(
            FieldError.invalid(
              tokenPath.child("expirationSeconds"),
              seconds,
              "may not specify a duration less than 10 minutes",
            ),
          );
        }
        return tokenErrs;
      });
      if (kinds === 0)
        out.push(FieldError.required(sourcePath, "must specify exactly 1 volume type"));
    });
    return out;
  });
  source("nfs", volume.nfs !== undefined, () => {
    const nfs = volume.nfs;
    if (nfs === undefined) return [];
    const at = path.child("nfs");
    const out = [
      ...requiredString(nfs.server, at.child("server")),
      ...requiredString(nfs.path, at.child("path")),
    ];
    if (nfs.path !== "" && !nfs.path.startsWith("/")) {
      out.push(FieldError.invalid(at.child("path"), nfs.path, "must be an absolute path"));
    }
    return out;
  });
  if (sources === 0) errs.push(FieldError.required(path, "must specify a volume type"));
  return errs;
}

/** A file mode (defaultMode, items[].mode): 0 to 0777. */
export function fileMode(mode: number | undefined, path: FieldPath): FieldError[] {
  if (mode === undefined || (mode >= 0 && mode <= MAX_FILE_MODE)) return [];
  return [FieldError.invalid(path, mode, FILE_MODE_ERROR)];
}

function keysToPaths(items: readonly KeyToPath[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  items.forEach((item, i) => {
    const at = path.index(i);
    errs.push(...requiredString(item.key, at.child("key")));
    errs.push(...localNonReservedPath(item.path, at.child("path")));
    errs.push(...fileMode(item.mode, at.child("mode")));
  });
  return errs;
}

function downwardApiFiles(files: readonly DownwardAPIVolumeFile[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  files.forEach((file, i) => {
    const at = path.index(i);
    errs.push(...localNonReservedPath(file.path, at.child("path")));
    errs.push(...fileMode(file.mode, at.child("mode")));
    if (file.fieldRef !== undefined && file.resourceFieldRef !== undefined) {
      errs.push(
        FieldError.invalid(
          at,
          "resource",
          "fieldRef and resourceFieldRef can not be specified simultaneously",
        ),
      );
    } else if (file.fieldRef !== undefined) {
      errs.push(
        ...validateObjectFieldSelector(file.fieldRef, VOLUME_DOWNWARD_FIELDS, at.child("fieldRef")),
      );
    } else if (file.resourceFieldRef !== undefined) {
      errs.push(
        ...validateResourceFieldSelector(file.resourceFieldRef, true, at.child("resourceFieldRef")),
      );
    } else {
      errs.push(FieldError.required(at, "one of fieldRef and resourceFieldRef is required"));
    }
  });
  return errs;
}

/** validatePathNoBacksteps: no ".." element. */
export function noBacksteps(value: string, path: FieldPath): FieldError[] {
  return value.split("/").includes("..")
    ? [FieldError.invalid(path, value, "must not contain '..'")]
    : [];
}

/**
 * validateLocalNonReservedPath: required, relative, no ".." element, and not starting with
 * ".." (a volume file path).
 */
export function localNonReservedPath(value: string, path: FieldPath): FieldError[] {
  if (value === "") return [FieldError.required(path)];
  const errs: FieldError[] = [];
  if (value.startsWith("/")) errs.push(FieldError.invalid(path, value, "must be a relative path"));
  errs.push(...noBacksteps(value, path));
  if (value.startsWith("..") && !value.split("/").includes("..")) {
    errs.push(FieldError.invalid(path, value, "must not start with '..'"));
  }
  return errs;
}

/** The quantity of a positive-only field: "must be greater than zero". */
export function positiveQuantity(text: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const quantity = parseQuantityAt(text, path, errs);
  if (quantity !== undefined && quantity.sign() <= 0) {
    errs.push(FieldError.invalid(path, quantity.toString(), IS_NOT_POSITIVE));
  }
  return errs;
}
