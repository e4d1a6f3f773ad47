// The one error type of label and field selectors.

import { aggregateMessage, type FieldError } from "../validation/field-error.js";

/**
 * Thrown for a selector that cannot be parsed or built. `reason` is Kubernetes' text for the
 * problem (e.g. "found ')', expected: identifier"); `message` also quotes the selector.
 * `errors` holds the field errors when a requirement was well formed but invalid (a bad key
 * or value), and is empty for syntax errors.
 */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
  readonly code = "invalid_argument";

  constructor(
    /** Which kind of selector: "label" or "field". */
    readonly kind: "label" | "field",
    /** The selector text, or a description of the object it was built from. */
    readonly selector: string,
    readonly reason: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(`invalid ${kind} selector ${JSON.stringify(selector)}: ${reason}`);
  }

  /** A selector error for a requirement whose field errors are `errors`. */
  static fromFieldErrors(
    kind: "label" | "field",
    selector: string,
    errors: readonly FieldError[],
  ): SelectorError {
    return new SelectorError(kind, selector, aggregateMessage(errors), errors);
  }
}
