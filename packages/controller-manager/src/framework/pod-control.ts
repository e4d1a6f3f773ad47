// Creating and deleting an owner's pods through the API (Kubernetes' PodControlInterface,
// k8s.io/kubernetes/pkg/controller/controller_utils.go), with the events Kubernetes records:
// SuccessfulCreate / FailedCreate / SuccessfulDelete / FailedDelete on the owner.

import { clone, create } from "@bufbuild/protobuf";
import {
  ObjectMetaSchema,
  type Pod,
  PodSchema,
  PodSpecSchema,
  type PodTemplateSpec,
} from "@tug/api";
import { type ApiClient, isApiError, metaNamespaceKeyFunc } from "@tug/client";
import { newControllerRef, type OwnerIdentity } from "./controller-ref.js";
import type { EventRecorder, InvolvedObject } from "./event-recorder.js";
import type { ControllerExpectations } from "./expectations.js";

/** What a controller does to pods; a fake in tests, ApiPodControl in the process. */
export interface PodControl {
  /**
   * Creates a pod from `template` in `namespace`, controlled by `owner`: template labels,
   * annotations and finalizers, generateName `generateName` (default `<owner name>-`; Kubernetes'
   * CreatePodsWithGenerateName), an ownerReference with controller=true and
   * blockOwnerDeletion=true.
   */
  createPod(
    namespace: string,
    template: PodTemplateSpec | undefined,
    owner: InvolvedObject & OwnerIdentity,
    generateName?: string,
  ): Promise<Pod>;
  /** Deletes the pod; a pod already gone rejects with the API's NotFound. */
  deletePod(namespace: string, name: string, owner: InvolvedObject): Promise<void>;
}

/**
 * The pod `createPod` asks for (Kubernetes' GetPodFromTemplate). The template is copied, never
 * shared with the result.
 */
export function podFromTemplate(
  namespace: string,
  template: PodTemplateSpec | undefined,
  owner: OwnerIdentity,
  generateName = `${owner.name}-`,
): Pod {
  const meta = template?.metadata;
  return create(PodSchema, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: create(ObjectMetaSchema, {
      namespace,
      generateName,
      labels: { ...(meta?.labels ?? {}) },
      annotations: { ...(meta?.annotations ?? {}) },
      finalizers: [...(meta?.finalizers ?? [])],
      ownerReferences: [newControllerRef(owner)],
    }),
    spec:
      template?.spec === undefined
        ? create(PodSpecSchema, {})
        : clone(PodSpecSchema, template.spec),
  });
}

export class ApiPodControl implements PodControl {
  constructor(
    private readonly api: Pick<ApiClient, "create" | "delete">,
    private readonly recorder: EventRecorder,
  ) {}

  async createPod(
    namespace: string,
    template: PodTemplateSpec | undefined,
    owner: InvolvedObject & OwnerIdentity,
    generateName?: string,
  ): Promise<Pod> {
    if (template?.spec === undefined) {
      throw new TypeError(
        `${owner.kind} ${namespace}/${owner.name}: spec.template.spec is missing; give the pod template a spec`,
      );
    }
    const pod = podFromTemplate(namespace, template, owner, generateName);
    try {
      const created = await this.api.create(PodSchema, pod);
      this.recorder.event(
        owner,
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${created.metadata?.name ?? ""}`,
      );
      return created;
    } catch (error) {
      this.recorder.event(owner, "Warning", "FailedCreate", `Error creating: ${message(error)}`);
      throw error;
    }
  }

  async deletePod(namespace: string, name: string, owner: InvolvedObject): Promise<void> {
    try {
      await this.api.delete(PodSchema, name, { namespace });
      this.recorder.event(owner, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
    } catch (error) {
      if (!isApiError(error, "NotFound")) {
        this.recorder.event(owner, "Warning", "FailedDelete", `Error deleting: ${message(error)}`);
      }
      throw error;
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Deletes `pods` of `owner` at once, expecting each deletion under `ownerKey` first (so the
 * owner does not act again before it sees them go); a deletion that fails is observed at once,
 * since its watch event never comes. A pod already gone is not an error; the first other
 * failure is thrown after all were tried (Kubernetes' manage step of ReplicaSet, Job, DaemonSet).
 */
export async function deletePodsExpecting(
  podControl: PodControl,
  expectations: Pick<ControllerExpectations, "expectDeletions" | "deletionObserved">,
  ownerKey: string,
  namespace: string,
  pods: readonly Pod[],
  owner: InvolvedObject,
): Promise<void> {
  expectations.expectDeletions(
    ownerKey,
    pods.map((p) => metaNamespaceKeyFunc(p)),
  );
  const errors: unknown[] = [];
  await Promise.all(
    pods.map(async (pod) => {
      try {
        await podControl.deletePod(namespace, pod.metadata?.name ?? "", owner);
      } catch (error) {
        expectations.deletionObserved(ownerKey, metaNamespaceKeyFunc(pod));
        if (!isApiError(error, "NotFound")) errors.push(error);
      }
    }),
  );
  if (errors.length > 0) throw errors[0];
}
