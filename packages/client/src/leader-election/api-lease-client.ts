// A LeaseClient over tug-apiserver: one coordination.k8s.io/v1 Lease, read and written through
// the typed ApiClient (client-go's resourcelock.LeaseLock).
// https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/lease-v1/
import { clone, create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Lease, LeaseSchema, LeaseSpecSchema, ObjectMetaSchema } from "@tug/api";
import type { ApiClient } from "../api-client/api-client.js";
import { isApiError } from "../api-client/api-error.js";
import type { LeaseClient, LeaseRecord, StoredLeaseRecord } from "./lease-client.js";

/** The ApiClient calls a lease lock makes. */
export type LeaseApi = Pick<ApiClient, "get" | "create" | "update">;

/**
 * The Lease `namespace/name` as a LeaseClient. Updates keep the Lease's other metadata (labels,
 * annotations, owner references) as last read, and replace only its spec. A NotFound read is
 * "no lease"; Conflict and AlreadyExists reject, which the elector treats as "another
 * candidate wrote first".
 */
export function apiLeaseClient(api: LeaseApi, namespace: string, name: string): LeaseClient {
  if (name === "") throw new TypeError("lease name is empty: name the Lease to elect on");
  let last: Lease | undefined;
  const remember = (lease: Lease): StoredLeaseRecord => {
    last = lease;
    return { record: recordOf(lease), resourceVersion: lease.metadata?.resourceVersion ?? "" };
  };
  return {
    describe: () => (namespace === "" ? name : `${namespace}/${name}`),

    async get(signal) {
      try {
        return remember(await api.get(LeaseSchema, name, { namespace, signal }));
      } catch (error) {
        if (isApiError(error, "NotFound")) return undefined;
        throw error;
      }
    },

    async create(record, signal) {
      const lease = create(LeaseSchema, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: specOf(record),
      });
      return remember(await api.create(LeaseSchema, lease, { signal }));
    },

    async update(record, resourceVersion, signal) {
      const lease =
        last === undefined
          ? create(LeaseSchema, {
              apiVersion: "coordination.k8s.io/v1",
              kind: "Lease",
              metadata: { name, namespace },
            })
          : clone(LeaseSchema, last);
      lease.metadata ??= create(ObjectMetaSchema, { name, namespace });
      lease.metadata.resourceVersion = resourceVersion;
      lease.spec = specOf(record);
      return remember(await api.update(LeaseSchema, lease, { signal }));
    },
  };
}

function specOf(record: LeaseRecord): Lease["spec"] {
  return create(LeaseSpecSchema, {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(record.acquireTime !== undefined && { acquireTime: timestampFromDate(record.acquireTime) }),
    ...(record.renewTime !== undefined && { renewTime: timestampFromDate(record.renewTime) }),
  });
}

function recordOf(lease: Lease): LeaseRecord {
  const spec = lease.spec;
  return {
    holderIdentity: spec?.holderIdentity ?? "",
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: spec?.acquireTime === undefined ? undefined : timestampDate(spec.acquireTime),
    renewTime: spec?.renewTime === undefined ? undefined : timestampDate(spec.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}
