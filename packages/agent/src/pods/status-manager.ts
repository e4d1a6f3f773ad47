// Writes pod statuses back to the API server, only when they changed (the kubelet's status
// manager): a status equal to the one the API server holds, or to the one last written, is
// not sent again. Writes go through UpdateStatus on a freshly read pod, retried on conflict, so
// the scheduler's PodScheduled condition and anything else set by others is kept.

import { toJsonString } from "@bufbuild/protobuf";
import { type Pod, PodSchema, type PodStatus, PodStatusSchema } from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";

/** Attempts of one write when others keep changing the pod (the kubelet retries on the next sync). */
const CONFLICT_RETRIES = 3;

/** The status as compared: everything but the times that move on their own. */
function fingerprint(status: PodStatus | undefined): string {
  return status === undefined ? "" : toJsonString(PodStatusSchema, status);
}

export class StatusManager {
  private readonly lastWritten = new Map<string, string>();
  /** Status writes sent (metrics). */
  writes = 0;

  constructor(private readonly client: ApiClient) {}

  /** Sends `status` for `pod` unless nothing changed; returns whether it wrote. */
  async update(pod: Pod, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? "";
    const next = fingerprint(status);
    if (next === fingerprint(pod.status) || next === this.lastWritten.get(uid)) return false;
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "";
    for (let attempt = 0; ; attempt++) {
      let fresh: Pod;
      try {
        fresh = await this.client.get(PodSchema, name, { namespace });
      } catch (e) {
        if (isApiError(e, "NotFound")) return false;
        throw e;
      }
      if (fresh.metadata?.uid !== uid) return false; // a new pod of the same name
      const conditions = [...status.conditions];
      for (const c of fresh.status?.conditions ?? []) {
        if (!conditions.some((x) => x.type === c.type)) conditions.push(c);
      }
      fresh.status = { ...status, conditions };
      try {
        await this.client.updateStatus(PodSchema, fresh);
        this.writes++;
        this.lastWritten.set(uid, next);
        return true;
      } catch (e) {
        if (isApiError(e, "Conflict") && attempt < CONFLICT_RETRIES) continue;
        if (isApiError(e, "NotFound")) return false;
        throw e;
      }
    }
  }

  forget(uid: string): void {
    this.lastWritten.delete(uid);
  }
}
