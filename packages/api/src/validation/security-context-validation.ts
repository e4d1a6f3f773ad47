// Pod and container security contexts and host aliases (k8s.io/kubernetes/pkg/apis/core/
// validation: ValidatePodSecurityContext, ValidateSecurityContext, validateSysctls,
// validateSeccompProfileField, ValidateHostAliases).
// Reference: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/

import type { SeccompProfile, SecurityContext } from "../gen/tug/core/v1/container_pb.js";
import type { HostAlias, PodSecurityContext } from "../gen/tug/core/v1/pod_pb.js";
import { FieldError, type FieldPath } from "./field-error.js";
import { dnsSubdomain, inclusiveRangeError, oneOf } from "./field-rules.js";
import { INVALID_IP, isIP } from "./ip-address.js";

const MAX_ID = 2147483647;
/** Kubernetes' sysctl name grammar (validation.go: SysctlContainSlashFmt) and length. */
const SYSCTL_MAX_LENGTH = 253;
const SYSCTL_FMT = "([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?";
const SYSCTL_RE = new RegExp(`^${SYSCTL_FMT}$`);
const SECCOMP_TYPES = ["Localhost", "RuntimeDefault", "Unconfined"];

/** IsValidUserID / IsValidGroupID: 0 to 2^31-1. */
function id(value: number | undefined, path: FieldPath): FieldError[] {
  if (value === undefined || (value >= 0 && value <= MAX_ID)) return [];
  return [FieldError.invalid(path, value, inclusiveRangeError(0, MAX_ID))];
}

function seccomp(profile: SeccompProfile | undefined, path: FieldPath): FieldError[] {
  if (profile === undefined) return [];
  const errs = oneOf(profile.type, SECCOMP_TYPES, path.child("type"));
  if (profile.type === "Localhost" && (profile.localhostProfile ?? "") === "") {
    errs.push(
      FieldError.required(
        path.child("localhostProfile"),
        "must be set when seccomp type is Localhost",
      ),
    );
  } else if (profile.type !== "Localhost" && profile.localhostProfile !== undefined) {
    errs.push(
      FieldError.invalid(
        path.child("localhostProfile"),
        profile.localhostProfile,
        "can only be set when seccomp type is Localhost",
      ),
    );
  }
  return errs;
}

/**
 * ValidatePodSecurityContext: user, group, fsGroup and supplemental group ids in 0..2^31-1;
 * sysctl names valid and unique; fsGroupChangePolicy OnRootMismatch or Always; seccomp.
 */
export function validatePodSecurityContext(
  context: PodSecurityContext | undefined,
  path: FieldPath,
): FieldError[] {
  if (context === undefined) return [];
  const errs = [
    ...id(context.runAsUser, path.child("runAsUser")),
    ...id(context.runAsGroup, path.child("runAsGroup")),
    ...id(context.fsGroup, path.child("fsGroup")),
  ];
  context.supplementalGroups.forEach((group, i) => {
    errs.push(...id(group, path.child("supplementalGroups").index(i)));
  });
  const names = new Set<string>();
  context.sysctls.forEach((sysctl, i) => {
    const at = path.child("sysctls").index(i);
    if (sysctl.name === "") {
      errs.push(FieldError.required(at.child("name")));
    } else if (sysctl.name.length > SYSCTL_MAX_LENGTH || !SYSCTL_RE.test(sysctl.name)) {
      errs.push(
        FieldError.invalid(
          at.child("name"),
          sysctl.name,
          `must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${SYSCTL_FMT}`,
        ),
      );
    } else if (names.has(sysctl.name)) {
      errs.push(FieldError.duplicate(at.child("name"), sysctl.name));
    }
    names.add(sysctl.name);
  });
  if (context.fsGroupChangePolicy !== undefined) {
    errs.push(
      ...oneOf(
        context.fsGroupChangePolicy,
        ["OnRootMismatch", "Always"],
        path.child("fsGroupChangePolicy"),
      ),
    );
  }
  errs.push(...seccomp(context.seccompProfile, path.child("seccompProfile")));
  return errs;
}

/**
 * ValidateSecurityContext of a container: ids in range; privileged excludes
 * allowPrivilegeEscalation false; procMount Default or Unmasked; seccomp.
 */
export function validateSecurityContext(
  context: SecurityContext | undefined,
  path: FieldPath,
): FieldError[] {
  if (context === undefined) return [];
  const errs = [
    ...id(context.runAsUser, path.child("runAsUser")),
    ...id(context.runAsGroup, path.child("runAsGroup")),
  ];
  if (context.privileged === true && context.allowPrivilegeEscalation === false) {
    errs.push(
      FieldError.invalid(
        path,
        "",
        "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
      ),
    );
  }
  if (context.procMount !== undefined) {
    errs.push(...oneOf(context.procMount, ["Default", "Unmasked"], path.child("procMount")));
  }
  errs.push(...seccomp(context.seccompProfile, path.child("seccompProfile")));
  return errs;
}

/** ValidateHostAliases: each ip an IP address, each hostname a DNS subdomain. */
export function validateHostAliases(aliases: readonly HostAlias[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  aliases.forEach((alias, i) => {
    const at = path.index(i);
    if (!isIP(alias.ip)) errs.push(FieldError.invalid(at.child("ip"), alias.ip, INVALID_IP));
    alias.hostnames.forEach((hostname, j) => {
      errs.push(...dnsSubdomain(hostname, at.child("hostnames").index(j)));
    });
  });
  return errs;
}
