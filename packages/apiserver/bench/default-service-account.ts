// Admission's ServiceAccount plugin refuses a pod until its namespace has the "default"
// account; the benchmarks run no controller manager to make it, so they make it themselves.

import { create } from "@bufbuild/protobuf";
import { ServiceAccountSchema } from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";

/** Creates ServiceAccount `default` in `namespace`; one that exists already is fine. */
export async function ensureDefaultServiceAccount(
  api: ApiClient,
  namespace: string,
): Promise<void> {
  try {
    await api.create(
      ServiceAccountSchema,
      create(ServiceAccountSchema, { metadata: { name: "default", namespace } }),
    );
  } catch (e) {
    if (!isApiError(e, "AlreadyExists")) throw e;
  }
}
