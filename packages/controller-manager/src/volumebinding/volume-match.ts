// Which PersistentVolume satisfies a PersistentVolumeClaim (Kubernetes' findMatchingVolume and
// checkVolumeSatisfyClaim): same storage class, every access mode the claim asks for, the same
// volume mode, labels the claim's selector accepts, and at least the requested capacity — the
// smallest such volume wins, and a volume pre-bound to the claim (spec.claimRef) before any.
// https://kubernetes.io/docs/concepts/storage/persistent-volumes/#binding

import { labels, type PersistentVolume, type PersistentVolumeClaim, Quantity } from "@tug/api";

function storage(list: Readonly<Record<string, string>> | undefined): Quantity | undefined {
  const text = list?.storage;
  if (text === undefined) return undefined;
  try {
    return Quantity.parse(text);
  } catch {
    return undefined;
  }
}

/** The claim's storage class: unset and "" both mean "no class". */
export function claimClass(claim: PersistentVolumeClaim): string {
  return claim.spec?.storageClassName ?? "";
}

/** Whether the volume's spec.claimRef names this claim (uid unset, or the claim's). */
export function isPreBoundTo(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (ref === undefined) return false;
  return (
    ref.namespace === claim.metadata?.namespace &&
    ref.name === claim.metadata?.name &&
    (ref.uid === "" || ref.uid === claim.metadata?.uid)
  );
}

/** Why the volume cannot hold the claim, or undefined if it can (ignoring who it is bound to). */
export function mismatch(
  volume: PersistentVolume,
  claim: PersistentVolumeClaim,
): string | undefined {
  const vs = volume.spec;
  const cs = claim.spec;
  if ((vs?.storageClassName ?? "") !== claimClass(claim)) return "storageClassName does not match";
  const modes = new Set(vs?.accessModes ?? []);
  if (!(cs?.accessModes ?? []).every((m) => modes.has(m))) return "accessModes do not match";
  if ((vs?.volumeMode ?? "Filesystem") !== (cs?.volumeMode ?? "Filesystem")) {
    return "volumeMode does not match";
  }
  const requested = storage(cs?.resources?.requests) ?? Quantity.ZERO;
  const capacity = storage(vs?.capacity);
  if (capacity === undefined || capacity.cmp(requested) < 0) return "capacity is too small";
  if (cs?.selector !== undefined) {
    try {
      if (!labels.Selector.fromObject(cs.selector).matches(volume.metadata?.labels ?? {})) {
        return "labels do not match the claim's selector";
      }
    } catch {
      return "the claim's selector is invalid";
    }
  }
  return undefined;
}

/**
 * The volume to bind the claim to: one pre-bound to it if it matches, else the smallest
 * available (no claimRef, not being deleted) matching volume; ties go to the name first in order.
 */
export function findMatchingVolume(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
): PersistentVolume | undefined {
  const candidates = volumes.filter(
    (v) => v.metadata?.deletionTimestamp === undefined && mismatch(v, claim) === undefined,
  );
  const preBound = candidates.find((v) => isPreBoundTo(v, claim));
  if (preBound !== undefined) return preBound;
  const available = candidates.filter((v) => v.spec?.claimRef === undefined);
  available.sort((a, b) => {
    const ca = storage(a.spec?.capacity) ?? Quantity.ZERO;
    const cb = storage(b.spec?.capacity) ?? Quantity.ZERO;
    return ca.cmp(cb) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "", "en");
  });
  return available[0];
}
