// The Endpoints controller (Kubernetes' pkg/controller/endpoint): for every Service with a
// selector, an Endpoints object of the same name listing the matching pods' addresses — ready
// and not ready — and ports; deleted with the Service. Services without a selector have their
// Endpoints written by hand and are left alone.
// https://kubernetes.io/docs/concepts/services-networking/service/#endpoints

import { clone, create, equals } from "@bufbuild/protobuf";
import {
  EndpointSubsetSchema,
  type Endpoints,
  EndpointsSchema,
  labels,
  ObjectMetaSchema,
  type Pod,
  type Service,
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
  splitMetaNamespaceKey,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";
import {
  computeEndpointSubsets,
  HEADLESS_LABEL,
  MAX_ENDPOINTS_CAPACITY,
  OVER_CAPACITY_ANNOTATION,
} from "./endpoint-subsets.js";

/** kube-controller-manager's --concurrent-endpoint-syncs. */
export const DEFAULT_CONCURRENT_ENDPOINT_SYNCS = 5;

export interface EndpointsControllerOptions {
  readonly api: Pick<ApiClient, "create" | "update" | "delete">;
  readonly services: SharedIndexInformer<Service>;
  readonly pods: SharedIndexInformer<Pod>;
  readonly endpoints: SharedIndexInformer<Endpoints>;
  readonly capacity?: number;
  readonly queue?: RateLimitingQueue;
}

function selectorOf(service: Service): labels.Selector | undefined {
  const selector = service.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) return undefined;
  return labels.Selector.fromSet(selector);
}

function sameStrings(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export class EndpointsController implements Controller {
  readonly name = "endpoint";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly serviceLister: Lister<Service>;
  private readonly podLister: Lister<Pod>;
  private readonly endpointsLister: Lister<Endpoints>;

  constructor(private readonly options: EndpointsControllerOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    this.informers = [options.services, options.pods, options.endpoints];
    this.serviceLister = createLister(options.services.getIndexer());
    this.podLister = createLister(options.pods.getIndexer());
    this.endpointsLister = createLister(options.endpoints.getIndexer());
    const enqueue = (obj: Service | Endpoints) => this.queue.add(metaNamespaceKeyFunc(obj));
    options.services.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, svc) => enqueue(svc),
      onDelete: (obj) => enqueue(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
    options.pods.addEventHandler({
      onAdd: (pod) => this.enqueueServicesOf(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        this.enqueueServicesOf(pod);
        if (!sameStrings(old.metadata?.labels ?? {}, pod.metadata?.labels ?? {})) {
          this.enqueueServicesOf(old);
        }
      },
      onDelete: (obj) => this.enqueueServicesOf(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
    // Someone else changed or removed an Endpoints object this controller owns: put it back.
    options.endpoints.addEventHandler({
      onUpdate: (_old, ep) => enqueue(ep),
      onDelete: (obj) => enqueue(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
  }

  private enqueueServicesOf(pod: Pod): void {
    const podLabels = pod.metadata?.labels ?? {};
    for (const svc of this.serviceLister.namespace(pod.metadata?.namespace ?? "").list()) {
      try {
        if (selectorOf(svc)?.matches(podLabels) === true) this.queue.add(metaNamespaceKeyFunc(svc));
      } catch {
        // A selector the API server accepted parses; nothing to do for one that does not.
      }
    }
  }

  /** syncService: create, update or delete the service's Endpoints to match its pods. */
  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const service = this.serviceLister.get(key);
    const current = this.endpointsLister.get(key);
    if (service === undefined) {
      if (current === undefined) return;
      try {
        await this.options.api.delete(EndpointsSchema, name, {
          namespace,
          preconditions: { uid: current.metadata?.uid ?? "" },
        });
      } catch (error) {
        if (!isApiError(error, "NotFound") && !isApiError(error, "Conflict")) throw error;
      }
      return;
    }
    if (service.spec?.type === "ExternalName") return;
    const selector = selectorOf(service);
    if (selector === undefined) return;
    const pods = this.podLister.namespace(namespace).list(selector);
    const { subsets, truncated } = computeEndpointSubsets(
      service,
      pods,
      this.options.capacity ?? MAX_ENDPOINTS_CAPACITY,
    );
    const wantLabels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
    if (service.spec?.clusterIp === "None") wantLabels[HEADLESS_LABEL] = "";
    const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    if (
      current !== undefined &&
      current.subsets.length === subsets.length &&
      current.subsets.every((s, i) => equals(EndpointSubsetSchema, s, subsets[i] ?? s)) &&
      sameStrings(current.metadata?.labels ?? {}, wantLabels) &&
      sameStrings(current.metadata?.annotations ?? {}, annotations)
    ) {
      return;
    }
    if (current === undefined) {
      const next = create(EndpointsSchema, {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name, namespace, labels: wantLabels, annotations },
        subsets,
      });
      try {
        await this.options.api.create(EndpointsSchema, next);
      } catch (error) {
        // Written meanwhile (the cache lags): the update of the next round takes it over.
        if (isApiError(error, "AlreadyExists")) this.queue.addRateLimited(key);
        else throw error;
      }
      return;
    }
    const next = clone(EndpointsSchema, current);
    next.metadata ??= create(ObjectMetaSchema);
    next.metadata.labels = wantLabels;
    next.metadata.annotations = annotations;
    next.subsets = subsets;
    await this.options.api.update(EndpointsSchema, next);
  }
}
