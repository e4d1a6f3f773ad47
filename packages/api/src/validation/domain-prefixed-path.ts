// A domain-prefixed path such as "acme.io/foo" (apimachinery's validation.IsDomainPrefixedPath):
// the rule for values that name a controller, like a Job's spec.managedBy.
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/#JobSpec

import { FieldError, type FieldPath } from "./field-error.js";
import { isDns1123Subdomain, regexError } from "./names.js";

/** Characters of an HTTP path (RFC 3986), as Kubernetes' httpPathFmt lists them. */
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/**
 * Everything before the first "/" a DNS-1123 subdomain, something after it made of HTTP path
 * characters. Errors as Kubernetes words them: Required when empty, Invalid otherwise.
 */
export function domainPrefixedPath(value: string, path: FieldPath): FieldError[] {
  if (value === "") return [FieldError.required(path)];
  const slash = value.indexOf("/");
  const host = slash < 0 ? "" : value.slice(0, slash);
  const rest = slash < 0 ? "" : value.slice(slash + 1);
  if (host === "" || rest === "") {
    return [
      FieldError.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")'),
    ];
  }
  const errs = isDns1123Subdomain(host).map((detail) => FieldError.invalid(path, host, detail));
  if (!HTTP_PATH_RE.test(rest)) {
    errs.push(FieldError.invalid(path, rest, regexError("Invalid path", HTTP_PATH_FMT)));
  }
  return errs;
}
