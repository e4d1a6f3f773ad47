// The ServiceAccount admission plugin (src/admission/service-account.ts) refuses a pod until its
// namespace has the account it runs as, "default" unless it names one. In a cluster the service
// accounts controller makes that account; tests and benchmarks that run without it (the
// controller manager's tests, the apiserver and scheduler benches) make it with this helper.
// https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts

import { create } from "@bufbuild/protobuf";
import { ServiceAccountSchema } from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";

/** Creates ServiceAccount "default" in `namespace`; one that exists already is fine. */
export async function ensureDefaultServiceAccount(
  api: ApiClient,
  namespace: string,
): Promise<void> {
  try {
    await api.create(
      ServiceAccountSchema,
      create(ServiceAccountSchema, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "default", namespace },
      }),
    );
  } catch (error) {
    if (!isApiError(error, "AlreadyExists")) throw error;
  }
}
