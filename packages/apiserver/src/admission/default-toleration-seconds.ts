// DefaultTolerationSeconds: a pod that does not tolerate the node.kubernetes.io/not-ready and
// node.kubernetes.io/unreachable NoExecute taints gets tolerations for them with
// tolerationSeconds 300 (kube-apiserver's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds), so that it is evicted five minutes after its node
// is lost.
// https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#defaulttolerationseconds

import type { Pod, Toleration } from "@tug/api";
import { type AdmissionAttributes, isObjectRequest } from "./attributes.js";
import type { AdmissionPlugin } from "./chain.js";

export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";

/** kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-... */
export const DEFAULT_TOLERATION_SECONDS = 300;

function tolerates(tolerations: readonly Toleration[], key: string): boolean {
  return tolerations.some(
    (t) => (t.key === key || t.key === "") && (t.effect === "NoExecute" || t.effect === ""),
  );
}

function toleration(key: string, seconds: number): Toleration {
  return {
    $typeName: "tug.core.v1.Toleration",
    key,
    operator: "Exists",
    value: "",
    effect: "NoExecute",
    tolerationSeconds: seconds,
  };
}

/** The plugin with the given tolerationSeconds for each taint (kube-apiserver's flags). */
export function defaultTolerationSecondsPlugin(
  notReadySeconds = DEFAULT_TOLERATION_SECONDS,
  unreachableSeconds = DEFAULT_TOLERATION_SECONDS,
): AdmissionPlugin {
  const seconds: Record<string, number> = {
    [TAINT_NODE_NOT_READY]: notReadySeconds,
    [TAINT_NODE_UNREACHABLE]: unreachableSeconds,
  };
  return {
    name: "DefaultTolerationSeconds",
    mutate: async (a: AdmissionAttributes) => {
      if (!isObjectRequest(a, "", "Pod")) return;
      if (a.operation !== "CREATE" && a.operation !== "UPDATE") return;
      const spec = (a.object as Pod | undefined)?.spec;
      if (spec === undefined) return;
      for (const key of [TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]) {
        if (!tolerates(spec.tolerations, key)) {
          spec.tolerations.push(toleration(key, seconds[key] ?? DEFAULT_TOLERATION_SECONDS));
        }
      }
    },
  };
}

export const defaultTolerationSeconds: AdmissionPlugin = defaultTolerationSecondsPlugin();
