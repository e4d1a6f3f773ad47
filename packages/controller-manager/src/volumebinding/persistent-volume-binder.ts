// The PersistentVolume binder (Kubernetes' pkg/controller/volume/persistentvolume, without
// provisioning): binds each pending claim to the best matching volume — both sides,
// pv.spec.claimRef then pvc.spec.volumeName, both phases Bound — and keeps volumes' phases true:
// Available when free, Bound while their claim holds them, and when the claim is gone Released
// (reclaim policy Retain) or deleted (Delete). tug has no dynamic provisioner: a claim no
// volume satisfies stays Pending until one is created.
// https://kubernetes.io/docs/concepts/storage/persistent-volumes/

import { clone, create } from "@bufbuild/protobuf";
import {
  ObjectReferenceSchema,
  type PersistentVolume,
  type PersistentVolumeClaim,
  PersistentVolumeClaimSchema,
  PersistentVolumeClaimStatusSchema,
  PersistentVolumeSchema,
  PersistentVolumeStatusSchema,
} from "@tug/api";
import {
  type ApiClient,
  createLister,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import type { EventRecorder } from "../framework/event-recorder.js";
import { claimClass, findMatchingVolume, mismatch } from "./volume-match.js";

/** Set on a claim whose binding the controller completed. */
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
/** Set on a claim or volume the controller bound (rather than the user pre-binding it). */
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";

/** --pvclaimbinder-sync-period: every claim and volume is looked at again this often. */
export const PV_CLAIM_BINDER_SYNC_PERIOD_MS = 15_000;

const CLAIM = "claim/";
const VOLUME = "volume/";

export interface PersistentVolumeBinderOptions {
  readonly api: Pick<ApiClient, "update" | "updateStatus" | "delete">;
  readonly volumes: SharedIndexInformer<PersistentVolume>;
  readonly claims: SharedIndexInformer<PersistentVolumeClaim>;
  readonly recorder: EventRecorder;
  readonly syncPeriodMs?: number;
  readonly queue?: RateLimitingQueue;
}

export class PersistentVolumeBinder implements Controller {
  readonly name = "persistentvolume-binder";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly volumeLister: Lister<PersistentVolume>;
  private readonly claimLister: Lister<PersistentVolumeClaim>;
  private readonly period: number;

  constructor(private readonly options: PersistentVolumeBinderOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    this.period = options.syncPeriodMs ?? PV_CLAIM_BINDER_SYNC_PERIOD_MS;
    this.informers = [options.volumes, options.claims];
    this.volumeLister = createLister(options.volumes.getIndexer());
    this.claimLister = createLister(options.claims.getIndexer());
    const volumeKey = (v: PersistentVolume) => VOLUME + (v.metadata?.name ?? "");
    const claimKey = (c: PersistentVolumeClaim) => CLAIM + metaNamespaceKeyFunc(c);
    options.volumes.addEventHandler({
      onAdd: (v) => {
        this.queue.add(volumeKey(v));
        // A new volume may be what pending claims wait for.
        for (const c of this.claimLister.list()) {
          if ((c.spec?.volumeName ?? "") === "") this.queue.add(claimKey(c));
        }
      },
      onUpdate: (_old, v) => this.queue.add(volumeKey(v)),
      onDelete: (obj) => {
        const v = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        const ref = v.spec?.claimRef;
        if (ref !== undefined) this.queue.add(`${CLAIM}${ref.namespace}/${ref.name}`);
      },
    });
    options.claims.addEventHandler({
      onAdd: (c) => this.queue.add(claimKey(c)),
      onUpdate: (_old, c) => this.queue.add(claimKey(c)),
      onDelete: (obj) => {
        const c = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        const name = c.spec?.volumeName ?? "";
        if (name !== "") this.queue.add(VOLUME + name);
        for (const v of this.volumeLister.list()) {
          if (v.spec?.claimRef?.uid === c.metadata?.uid) this.queue.add(volumeKey(v));
        }
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith(CLAIM)) {
      const claim = this.claimLister.get(key.slice(CLAIM.length));
      if (claim === undefined) return;
      await this.syncClaim(claim);
    } else if (key.startsWith(VOLUME)) {
      const volume = this.volumeLister.get(key.slice(VOLUME.length));
      if (volume === undefined) return;
      await this.syncVolume(volume);
    }
    this.queue.addAfter(key, this.period);
  }

  private involved(claim: PersistentVolumeClaim) {
    return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: claim.metadata };
  }

  /** syncClaim: bind a pending claim, or finish a binding half done. */
  private async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.metadata?.deletionTimestamp !== undefined) return;
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName === "") {
      const volume = findMatchingVolume(claim, this.volumeLister.list());
      if (volume === undefined) {
        await this.setClaimPhase(claim, "Pending");
        const cls = claimClass(claim);
        this.options.recorder.event(
          this.involved(claim),
          "Normal",
          "FailedBinding",
          cls === ""
            ? "no persistent volumes available for this claim and no storage class is set"
            : `no persistent volumes of storage class "${cls}" available for this claim, and tug does not provision volumes`,
        );
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    // The claim names its volume (pre-bound by its author, or bound by this controller).
    const volume = this.volumeLister.get(volumeName);
    if (volume === undefined) {
      // Bound once and the volume is gone: the data is lost.
      if (claim.metadata?.annotations[ANN_BIND_COMPLETED] !== undefined) {
        await this.setClaimPhase(claim, "Lost");
        this.options.recorder.event(
          this.involved(claim),
          "Warning",
          "ClaimLost",
          "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        );
      } else {
        await this.setClaimPhase(claim, "Pending");
      }
      return;
    }
    const ref = volume.spec?.claimRef;
    if (
      ref === undefined ||
      (ref.namespace === claim.metadata?.namespace &&
        ref.name === claim.metadata.name &&
        (ref.uid === "" || ref.uid === claim.metadata.uid))
    ) {
      if (ref === undefined && mismatch(volume, claim) !== undefined) {
        this.options.recorder.event(
          this.involved(claim),
          "Warning",
          "VolumeMismatch",
          `Cannot bind to requested volume "${volumeName}": ${mismatch(volume, claim)}`,
        );
        await this.setClaimPhase(claim, "Pending");
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    // The volume holds another claim.
    await this.setClaimPhase(claim, "Pending");
  }

  /** Both sides, volume first (as Kubernetes does): claimRef, phases, volumeName, status. */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const meta = claim.metadata;
    let pv = volume;
    const ref = pv.spec?.claimRef;
    if (ref?.uid !== meta?.uid || ref?.name !== meta?.name) {
      const updated = clone(PersistentVolumeSchema, pv);
      if (updated.spec === undefined || updated.metadata === undefined) return;
      const preBound = ref !== undefined;
      updated.spec.claimRef = create(ObjectReferenceSchema, {
        kind: "PersistentVolumeClaim",
        apiVersion: "v1",
        namespace: meta?.namespace ?? "",
        name: meta?.name ?? "",
        uid: meta?.uid ?? "",
        resourceVersion: meta?.resourceVersion ?? "",
      });
      if (!preBound) updated.metadata.annotations[ANN_BOUND_BY_CONTROLLER] = "yes";
      pv = await this.options.api.update(PersistentVolumeSchema, updated);
    }
    if (pv.status?.phase !== "Bound") {
      const updated = clone(PersistentVolumeSchema, pv);
      updated.status ??= create(PersistentVolumeStatusSchema);
      updated.status.phase = "Bound";
      pv = await this.options.api.updateStatus(PersistentVolumeSchema, updated);
    }
    let pvc = claim;
    const name = pv.metadata?.name ?? "";
    const annotations = pvc.metadata?.annotations ?? {};
    if (pvc.spec?.volumeName !== name || annotations[ANN_BIND_COMPLETED] === undefined) {
      const updated = clone(PersistentVolumeClaimSchema, pvc);
      if (updated.spec === undefined || updated.metadata === undefined) return;
      if (updated.spec.volumeName !== name) {
        updated.spec.volumeName = name;
        updated.metadata.annotations[ANN_BOUND_BY_CONTROLLER] = "yes";
      }
      updated.metadata.annotations[ANN_BIND_COMPLETED] = "yes";
      pvc = await this.options.api.update(PersistentVolumeClaimSchema, updated);
    }
    const status = pvc.status;
    const capacity = pv.spec?.capacity ?? {};
    if (
      status?.phase !== "Bound" ||
      status.accessModes.join() !== (pv.spec?.accessModes ?? []).join() ||
      status.capacity.storage !== capacity.storage
    ) {
      const updated = clone(PersistentVolumeClaimSchema, pvc);
      updated.status ??= create(PersistentVolumeClaimStatusSchema);
      updated.status.phase = "Bound";
      updated.status.accessModes = [...(pv.spec?.accessModes ?? [])];
      updated.status.capacity = { ...capacity };
      await this.options.api.updateStatus(PersistentVolumeClaimSchema, updated);
    }
  }

  private async setClaimPhase(claim: PersistentVolumeClaim, phase: string): Promise<void> {
    if (claim.status?.phase === phase) return;
    const updated = clone(PersistentVolumeClaimSchema, claim);
    updated.status ??= create(PersistentVolumeClaimStatusSchema);
    updated.status.phase = phase;
    await this.options.api.updateStatus(PersistentVolumeClaimSchema, updated);
  }

  private async setVolumePhase(volume: PersistentVolume, phase: string): Promise<void> {
    if (volume.status?.phase === phase) return;
    const updated = clone(PersistentVolumeSchema, volume);
    updated.status ??= create(PersistentVolumeStatusSchema);
    updated.status.phase = phase;
    await this.options.api.updateStatus(PersistentVolumeSchema, updated);
  }

  /** syncVolume: the volume's phase from its claim; reclaim it when the claim is gone. */
  private async syncVolume(volume: PersistentVolume): Promise<void> {
    if (volume.metadata?.deletionTimestamp !== undefined) return;
    const ref = volume.spec?.claimRef;
    if (ref === undefined) {
      await this.setVolumePhase(volume, "Available");
      return;
    }
    const claim = this.claimLister.namespace(ref.namespace).get(ref.name);
    if (ref.uid === "") {
      // Pre-bound to a claim by name: the claim's sync binds it when the claim appears.
      if (claim !== undefined) this.queue.add(CLAIM + metaNamespaceKeyFunc(claim));
      await this.setVolumePhase(volume, "Available");
      return;
    }
    if (claim === undefined || claim.metadata?.uid !== ref.uid) {
      // The claim is gone: reclaim (Retain keeps the volume, Released; Delete removes it).
      if (volume.spec?.persistentVolumeReclaimPolicy === "Delete") {
        try {
          await this.options.api.delete(PersistentVolumeSchema, volume.metadata?.name ?? "", {
            preconditions: { uid: volume.metadata?.uid ?? "" },
          });
        } catch (error) {
          if (!isApiError(error, "NotFound") && !isApiError(error, "Conflict")) throw error;
        }
        return;
      }
      await this.setVolumePhase(volume, "Released");
      return;
    }
    if (claim.spec?.volumeName === volume.metadata?.name) {
      await this.setVolumePhase(volume, "Bound");
      return;
    }
    if ((claim.spec?.volumeName ?? "") === "") {
      // Half bound (the claim's side failed): the claim's sync completes it.
      this.queue.add(CLAIM + metaNamespaceKeyFunc(claim));
      return;
    }
    // The claim went to another volume: free this one if the controller had bound it.
    if (volume.metadata?.annotations[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      const updated = clone(PersistentVolumeSchema, volume);
      if (updated.spec !== undefined) updated.spec.claimRef = undefined;
      const freed = await this.options.api.update(PersistentVolumeSchema, updated);
      await this.setVolumePhase(freed, "Available");
    }
  }
}
