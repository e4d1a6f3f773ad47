// Small rules that validation of every kind shares, with Kubernetes' texts
// (k8s.io/kubernetes/pkg/apis/core/validation: ValidateNonnegativeField,
// ValidateImmutableField, ValidatePortNumOrName, ValidateResourceQuantityValue, ...).

import { type DescMessage, equals, type MessageShape } from "@bufbuild/protobuf";
import type { Value } from "@bufbuild/protobuf/wkt";
import { Quantity, QuantityError } from "../quantity.js";
import { intOrString } from "../scheme/int-or-string.js";
import { type BadValue, FieldError, type FieldPath } from "./field-error.js";
import {
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  regexError,
} from "./names.js";

/** apimachinery's FieldImmutableErrorMsg. */
export const FIELD_IMMUTABLE = "field is immutable";
/** isNegativeErrorMsg. */
export const IS_NEGATIVE = "must be greater than or equal to 0";
/** isNotPositiveErrorMsg. */
export const IS_NOT_POSITIVE = "must be greater than zero";

/** `value` must be >= 0 (ValidateNonnegativeField). */
export function nonNegative(value: number | undefined, path: FieldPath): FieldError[] {
  return value !== undefined && value < 0 ? [FieldError.invalid(path, value, IS_NEGATIVE)] : [];
}

/** `value` must be > 0 (ValidatePositiveField: "must be greater than zero"). */
export function positive(value: number | undefined, path: FieldPath): FieldError[] {
  return value !== undefined && value <= 0
    ? [FieldError.invalid(path, value, IS_NOT_POSITIVE)]
    : [];
}

/** "must be between a and b, inclusive" (validation.InclusiveRangeError). */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** ValidateImmutableField for plain values: Invalid "field is immutable" when they differ. */
export function immutable<T extends BadValue>(next: T, old: T, path: FieldPath): FieldError[] {
  return sameJson(next, old) ? [] : [FieldError.invalid(path, next, FIELD_IMMUTABLE)];
}

/** ValidateImmutableField for messages (unset and empty messages are different, as in Go). */
export function immutableMessage<Desc extends DescMessage>(
  schema: Desc,
  next: MessageShape<Desc> | undefined,
  old: MessageShape<Desc> | undefined,
  path: FieldPath,
  shown: BadValue,
): FieldError[] {
  if (next === undefined && old === undefined) return [];
  if (next !== undefined && old !== undefined && equals(schema, next, old)) {
    return [];
  }
  return [FieldError.invalid(path, shown ?? null, FIELD_IMMUTABLE)];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A required string: Required when empty. */
export function requiredString(value: string | undefined, path: FieldPath): FieldError[] {
  return value === undefined || value === "" ? [FieldError.required(path)] : [];
}

/** `value` must be one of `supported`: Required when empty, else NotSupported. */
export function oneOf(
  value: string | undefined,
  supported: readonly string[],
  path: FieldPath,
  options: { optional?: boolean } = {},
): FieldError[] {
  if (value === undefined || value === "") {
    return options.optional === true ? [] : [FieldError.required(path)];
  }
  return supported.includes(value) ? [] : [FieldError.notSupported(path, value, supported)];
}

/** Each problem `check` finds in `value`, as Invalid at `path`. */
export function invalidEach(
  value: string,
  path: FieldPath,
  check: (v: string) => string[],
): FieldError[] {
  return check(value).map((problem) => FieldError.invalid(path, value, problem));
}

/** ValidateDNS1123Label. */
export function dnsLabel(value: string, path: FieldPath): FieldError[] {
  return invalidEach(value, path, isDns1123Label);
}

/** ValidateDNS1123Subdomain. */
export function dnsSubdomain(value: string, path: FieldPath): FieldError[] {
  return invalidEach(value, path, isDns1123Subdomain);
}

/** ValidateQualifiedName. */
export function qualifiedName(value: string, path: FieldPath): FieldError[] {
  return invalidEach(value, path, isQualifiedName);
}

/**
 * ValidatePortNumOrName: an IntOrString port must be 1-65535 or a valid IANA service name;
 * unset or "" is Required.
 */
export function portNumOrName(port: Value | undefined, path: FieldPath): FieldError[] {
  const value = intOrString(port);
  if (typeof value === "number") return invalidEachNumber(value, path, isValidPortNum);
  if (value === undefined || value === "") return [FieldError.required(path)];
  return invalidEach(value, path, isValidPortName);
}

export function invalidEachNumber(
  value: number,
  path: FieldPath,
  check: (v: number) => string[],
): FieldError[] {
  return check(value).map((problem) => FieldError.invalid(path, value, problem));
}

/** Parses a quantity; an Invalid error with Kubernetes' parse text when it does not parse. */
export function parseQuantityAt(
  text: string,
  path: FieldPath,
  errs: FieldError[],
): Quantity | undefined {
  try {
    return Quantity.parse(text);
  } catch (error) {
    if (error instanceof QuantityError) {
      errs.push(FieldError.invalid(path, text, error.reason));
      return undefined;
    }
    throw error;
  }
}

/**
 * ValidateResourceQuantityValue: a valid, non-negative quantity; an integer for resources that
 * are counted (pods, services, count/..., extended resources). Returns the quantity.
 */
export function resourceQuantity(
  resource: string,
  text: string,
  path: FieldPath,
  errs: FieldError[],
): Quantity | undefined {
  const quantity = parseQuantityAt(text, path, errs);
  if (quantity === undefined) return undefined;
  if (quantity.sign() < 0) errs.push(FieldError.invalid(path, quantity.toString(), IS_NEGATIVE));
  if (isIntegerResource(resource) && quantity.milliValue() % 1000n !== 0n) {
    errs.push(FieldError.invalid(path, quantity.toString(), "must be an integer"));
  }
  return quantity;
}

const INTEGER_RESOURCES: ReadonlySet<string> = new Set([
  "pods",
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
]);

/** Resources counted in whole units (IsIntegerResourceName). */
export function isIntegerResource(resource: string): boolean {
  return (
    INTEGER_RESOURCES.has(resource) || resource.startsWith("count/") || isExtendedResource(resource)
  );
}

/**
 * An extended resource (IsExtendedResourceName): a qualified name with a domain outside
 * kubernetes.io, not a quota "requests." name, e.g. "example.com/gpu".
 */
export function isExtendedResource(resource: string): boolean {
  if (!resource.includes("/")) return false;
  if (resource.startsWith("requests.") || resource.startsWith("limits.")) return false;
  const domain = resource.slice(0, resource.indexOf("/"));
  return domain !== "kubernetes.io" && !domain.endsWith(".kubernetes.io");
}

/** Hugepage resources (hugepages-2Mi). */
export function isHugePageResource(resource: string): boolean {
  return resource.startsWith("hugepages-");
}

const PERCENT_RE = /^[0-9]+%$/;

/**
 * ValidatePositiveIntOrPercent: a non-negative integer or a percent string such as "25%";
 * returns the number (percent without '%') when valid.
 */
export function intOrPercent(value: Value | undefined, path: FieldPath): FieldError[] {
  const v = intOrString(value);
  if (typeof v === "number") return nonNegative(v, path);
  if (typeof v === "string" && !PERCENT_RE.test(v)) {
    return [
      FieldError.invalid(
        path,
        v,
        regexError(
          "a valid percent string must be a numeric string followed by an ending '%'",
          "[0-9]+%",
          "1%",
          "93%",
        ),
      ),
    ];
  }
  return [];
}

/** IsNotMoreThan100Percent: a percent string above 100% is Invalid. */
export function notMoreThan100Percent(value: Value | undefined, path: FieldPath): FieldError[] {
  const v = intOrString(value);
  if (typeof v === "string" && PERCENT_RE.test(v) && Number.parseInt(v, 10) > 100) {
    return [FieldError.invalid(path, v, "must not be greater than 100%")];
  }
  return [];
}

/** The number of an int-or-percent (getIntOrPercentValue): 25 for "25%", 0 for unset. */
export function intOrPercentValue(value: Value | undefined): number {
  const v = intOrString(value);
  if (typeof v === "number") return v;
  if (typeof v === "string" && PERCENT_RE.test(v)) return Number.parseInt(v, 10);
  return 0;
}

/** A map of resource name to quantity text whose names and quantities are all valid. */
export function resourceList(
  list: Readonly<Record<string, string>>,
  path: FieldPath,
  validateName: (name: string, path: FieldPath) => FieldError[] = qualifiedResourceName,
): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, text] of Object.entries(list)) {
    errs.push(...validateName(name, path.key(name)));
    resourceQuantity(name, text, path.key(name), errs);
  }
  return errs;
}

/** validateResourceName: a qualified name (with an optional domain prefix). */
export function qualifiedResourceName(name: string, path: FieldPath): FieldError[] {
  return qualifiedName(name, path);
}
