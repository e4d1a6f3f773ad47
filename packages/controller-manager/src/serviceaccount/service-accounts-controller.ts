// The service accounts controller (Kubernetes' pkg/controller/serviceaccount): every active
// namespace has the ServiceAccount "default" — pods that name no account run as it, and the
// ServiceAccount admission plugin refuses pods whose account does not exist. Deleted, it is
// made again.
// https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts

import { create } from "@bufbuild/protobuf";
import { type Namespace, type ServiceAccount, ServiceAccountSchema } from "@tug/api";
import {
  type ApiClient,
  createLister,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  RateLimitingQueue,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";

/** The accounts every namespace gets (ServiceAccountsControllerOptions.ServiceAccounts). */
export const DEFAULT_SERVICE_ACCOUNTS: readonly string[] = ["default"];

export interface ServiceAccountsControllerOptions {
  readonly api: Pick<ApiClient, "create">;
  readonly namespaces: SharedIndexInformer<Namespace>;
  readonly serviceAccounts: SharedIndexInformer<ServiceAccount>;
  readonly accounts?: readonly string[];
  readonly queue?: RateLimitingQueue;
}

export class ServiceAccountsController implements Controller {
  readonly name = "serviceaccount";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly namespaceLister: Lister<Namespace>;
  private readonly accountLister: Lister<ServiceAccount>;
  private readonly accounts: readonly string[];

  constructor(private readonly options: ServiceAccountsControllerOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    this.accounts = options.accounts ?? DEFAULT_SERVICE_ACCOUNTS;
    this.informers = [options.namespaces, options.serviceAccounts];
    this.namespaceLister = createLister(options.namespaces.getIndexer());
    this.accountLister = createLister(options.serviceAccounts.getIndexer());
    const enqueue = (ns: Namespace) => this.queue.add(ns.metadata?.name ?? "");
    options.namespaces.addEventHandler({ onAdd: enqueue, onUpdate: (_old, ns) => enqueue(ns) });
    options.serviceAccounts.addEventHandler({
      onDelete: (obj) => {
        const sa = isDeletedFinalStateUnknown(obj) ? obj.obj : obj;
        if (this.accounts.includes(sa.metadata?.name ?? "")) {
          this.queue.add(sa.metadata?.namespace ?? "");
        }
      },
    });
  }

  /** syncNamespace: creates the missing accounts of an active namespace. */
  async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaceLister.get(namespace);
    if (ns === undefined || ns.metadata?.deletionTimestamp !== undefined) return;
    if ((ns.status?.phase ?? "Active") !== "Active" && ns.status?.phase !== "") return;
    for (const name of this.accounts) {
      if (this.accountLister.namespace(namespace).get(name) !== undefined) continue;
      try {
        await this.options.api.create(
          ServiceAccountSchema,
          create(ServiceAccountSchema, {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name, namespace },
          }),
        );
      } catch (error) {
        // There already (the cache lags), or the namespace began terminating meanwhile.
        if (isApiError(error, "AlreadyExists") || isApiError(error, "Forbidden")) continue;
        throw error;
      }
    }
  }
}
