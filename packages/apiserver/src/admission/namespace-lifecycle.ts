// NamespaceLifecycle: no objects in a namespace that does not exist, no new objects in one that
// is being terminated, and the system namespaces may not be deleted.
// https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle

import { ApiError } from "../storage/errors.js";
import { type AdmissionAttributes, type AdmissionLookups, forbidden } from "./attributes.js";
import type { AdmissionPlugin } from "./chain.js";

/** Namespaces that always exist (kube-apiserver's immortal namespaces). */
export const IMMORTAL_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public"];

async function admit(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<void> {
  if (a.kind.group === "" && a.kind.kind === "Namespace") {
    if (a.operation === "DELETE" && IMMORTAL_NAMESPACES.includes(a.name)) {
      throw ApiError.forbidden(
        { group: "", resource: "namespaces" },
        a.name,
        "this namespace may not be deleted",
      );
    }
    if (a.operation === "DELETE" && !a.dryRun) lookups.namespaceDeleting?.(a.name);
    return;
  }
  // Cluster-scoped objects, and deletes anywhere, are always allowed.
  if (a.namespace === "" || a.operation === "DELETE") return;
  const namespace = await lookups.getNamespace(a.namespace);
  if (namespace === undefined) {
    throw ApiError.notFound({ group: "", resource: "namespaces" }, a.namespace);
  }
  if (a.operation === "CREATE" && namespace.status?.phase === "Terminating") {
    throw forbidden(
      a,
      `unable to create new content in namespace ${a.namespace} because it is being terminated`,
    );
  }
}

export const namespaceLifecycle: AdmissionPlugin = { name: "NamespaceLifecycle", mutate: admit };
