// The admission chain: mutating plugins in order, then (the server's) defaults and validation,
// then validating plugins in order, as kube-apiserver runs them. The first refusal ends the
// request. https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/

import type { AdmissionAttributes, AdmissionLookups } from "./attributes.js";
import { defaultTolerationSecondsPlugin } from "./default-toleration-seconds.js";
import { limitRanger } from "./limit-ranger.js";
import { namespaceLifecycle } from "./namespace-lifecycle.js";
import { type QuotaCharge, resourceQuota } from "./resource-quota.js";
import { serviceAccount } from "./service-account.js";

/** One admission controller. A plugin may take part in one phase or both. */
export interface AdmissionPlugin {
  /** Kubernetes' name of the plugin: "LimitRanger". */
  readonly name: string;
  /** Mutating phase: may change `a.object` in place; throws an ApiError to refuse. */
  mutate?(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<void>;
  /**
   * Validating phase: must not change the object; throws an ApiError to refuse; returns the
   * quota usage the request adds, if it charges any.
   */
  validate?(
    a: AdmissionAttributes,
    lookups: AdmissionLookups,
  ): Promise<readonly QuotaCharge[] | undefined>;
}

/** What admission decided beyond "allowed". */
export interface AdmissionOutcome {
  /**
   * Quota usage to record before storing the object: for each, set the quota's status.used
   * to `used` only if its resourceVersion is still the one read (compare-and-swap); on a
   * conflict, run validation again. Skipped for dry runs.
   */
  readonly quotaCharges: readonly QuotaCharge[];
}

/** Plugins in kube-apiserver's order. */
export class AdmissionChain {
  constructor(readonly plugins: readonly AdmissionPlugin[]) {}

  /** Runs every mutating plugin in order. */
  async mutate(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<void> {
    for (const plugin of this.plugins) await plugin.mutate?.(a, lookups);
  }

  /** Runs every validating plugin in order; collects their quota charges. */
  async validate(a: AdmissionAttributes, lookups: AdmissionLookups): Promise<AdmissionOutcome> {
    const quotaCharges: QuotaCharge[] = [];
    for (const plugin of this.plugins) {
      const charges = await plugin.validate?.(a, lookups);
      if (charges !== undefined) quotaCharges.push(...charges);
    }
    return { quotaCharges };
  }

  /**
   * The whole chain: mutate, then `between` (where the server applies defaults and validates
   * the object), then validate.
   */
  async admit(
    a: AdmissionAttributes,
    lookups: AdmissionLookups,
    between: (a: AdmissionAttributes) => void | Promise<void> = () => {},
  ): Promise<AdmissionOutcome> {
    await this.mutate(a, lookups);
    await between(a);
    return this.validate(a, lookups);
  }
}

/**
 * tug's chain, in Kubernetes' recommended order: NamespaceLifecycle, LimitRanger,
 * ServiceAccount, DefaultTolerationSeconds, ResourceQuota (last, so that it charges what the
 * others let through).
 */
export function defaultAdmissionChain(options: DefaultAdmissionOptions = {}): AdmissionChain {
  return new AdmissionChain([
    namespaceLifecycle,
    limitRanger,
    serviceAccount,
    defaultTolerationSecondsPlugin(
      options.defaultNotReadyTolerationSeconds,
      options.defaultUnreachableTolerationSeconds,
    ),
    resourceQuota,
  ]);
}

/** The settings of the default plugins (kube-apiserver's flags). */
export interface DefaultAdmissionOptions {
  /** --default-not-ready-toleration-seconds (300). */
  readonly defaultNotReadyTolerationSeconds?: number;
  /** --default-unreachable-toleration-seconds (300). */
  readonly defaultUnreachableTolerationSeconds?: number;
}
