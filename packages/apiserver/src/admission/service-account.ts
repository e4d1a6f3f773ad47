// ServiceAccount: a pod runs as the namespace's "default" service account unless it names one,
// and may only name an account that exists.
// https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#serviceaccount
// Token volumes are not mounted: tug has no service-account token issuer yet.

import type { Pod } from "@tug/api";
import {
  type AdmissionAttributes,
  type AdmissionLookups,
  forbidden,
  isObjectRequest,
} from "./attributes.js";
import type { AdmissionPlugin } from "./chain.js";

export const DEFAULT_SERVICE_ACCOUNT = "default";

/** Static pods mirrored by the node agent carry this annotation; they are left alone. */
export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

async function admit(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<void> {
  if (!isObjectRequest(a, "", "Pod") || a.operation !== "CREATE") return;
  const pod = a.object as Pod | undefined;
  if (pod?.spec === undefined) return;
  if (pod.metadata?.annotations[MIRROR_POD_ANNOTATION] !== undefined) return;
  const spec = pod.spec;
  // serviceAccount is the deprecated spelling; Kubernetes keeps the two equal.
  const name = spec.serviceAccountName || spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  spec.serviceAccountName = name;
  spec.serviceAccount = name;
  const account = await lookups.getServiceAccount(a.namespace, name);
  if (account === undefined) {
    throw forbidden(
      a,
      `error looking up service account ${a.namespace}/${name}: serviceaccount "${name}" not found`,
    );
  }
}

export const serviceAccount: AdmissionPlugin = { name: "ServiceAccount", mutate: admit };
