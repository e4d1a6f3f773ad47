// Pods are admitted only when their service account exists (the ServiceAccount admission
// plugin); tests that run without the serviceaccount controller create "default" themselves.

import { create } from "@bufbuild/protobuf";
import { ServiceAccountSchema } from "@tug/api";
import { type ApiClient, isApiError } from "@tug/client";

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
