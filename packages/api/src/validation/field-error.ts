// Field paths and field errors: how validation names the field it rejects and says why.
//
// The shapes and texts follow k8s.io/apimachinery/pkg/util/validation/field (Path, Error,
// ErrorList.ToAggregate), so that a message tug prints reads exactly like the one the
// Kubernetes API server prints for the same manifest, e.g.
//   spec.containers[0].name: Required value
//   spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never"

/**
 * A path to a field of an object, built from the root down:
 * `FieldPath.root("spec").child("containers").index(0).child("name")` prints
 * `spec.containers[0].name`; `.key("foo")` prints `[foo]` (a map entry).
 * Paths are immutable: every builder method returns a new path and leaves the receiver alone,
 * so one parent path can be shared by the validation of all its children.
 */
export class FieldPath {
  private constructor(
    private readonly parent: FieldPath | undefined,
    /** A field name, or undefined when this element is a subscript. */
    private readonly name: string | undefined,
    /** A list index or map key, printed in brackets. */
    private readonly subscript: string | undefined,
  ) {}

  /** A path that starts at `name` (and descends through `moreNames`), like field.NewPath. */
  static root(name: string, ...moreNames: string[]): FieldPath {
    let path = new FieldPath(undefined, name, undefined);
    for (const more of moreNames) path = new FieldPath(path, more, undefined);
    return path;
  }

  /** The field `name` (then `moreNames`) inside this one: `a` -> `a.name`. */
  child(name: string, ...moreNames: string[]): FieldPath {
    let path = new FieldPath(this, name, undefined);
    for (const more of moreNames) path = new FieldPath(path, more, undefined);
    return path;
  }

  /** The list element at `index`: `a` -> `a[index]`. */
  index(index: number): FieldPath {
    return new FieldPath(this, undefined, String(index));
  }

  /** The map entry at `key`: `a` -> `a[key]` (the key is printed unquoted, as Kubernetes does). */
  key(key: string): FieldPath {
    return new FieldPath(this, undefined, key);
  }

  toString(): string {
    const elements: FieldPath[] = [];
    for (let p: FieldPath | undefined = this; p !== undefined; p = p.parent) elements.push(p);
    let out = "";
    for (let i = elements.length - 1; i >= 0; i--) {
      const element = elements[i] as FieldPath;
      if (element.name === undefined) {
        out += `[${element.subscript}]`;
      } else {
        // An empty root name prints nothing, so `root("")` works as an anonymous root.
        if (out.length > 0 && element.name.length > 0) out += ".";
        out += element.name;
      }
    }
    return out;
  }
}

/** Shorthand for {@link FieldPath.root}. */
export function root(name: string, ...moreNames: string[]): FieldPath {
  return FieldPath.root(name, ...moreNames);
}

/**
 * The kinds of field error. The string values are Kubernetes' ErrorType values, which are also
 * the `reason` of a StatusCause in a Status reply.
 */
export type FieldErrorType =
  | "FieldValueNotFound"
  | "FieldValueRequired"
  | "FieldValueDuplicate"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "InternalError";

/** The human text of each type, as field.ErrorType.String() prints it. */
const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: "Not found",
  FieldValueRequired: "Required value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  InternalError: "Internal error",
};

/** Types whose message never shows the bad value (it is absent, secret-ish or too big). */
const VALUE_NOT_SHOWN: ReadonlySet<FieldErrorType> = new Set<FieldErrorType>([
  "FieldValueRequired",
  "FieldValueForbidden",
  "FieldValueTooLong",
  "InternalError",
]);

/** A value that was rejected. Printed as Go's %q for strings and %v for numbers and booleans. */
export type BadValue = string | number | bigint | boolean | null | undefined | object;

/** Marks a bad value that is deliberately left out of the message (Too many with no count). */
const OMITTED: unique symbol = Symbol("value omitted");

/**
 * One problem with one field. `message` is the full Kubernetes text (`<field>: <body>`); `body`
 * is the text without the field, as a StatusCause's message carries it.
 * Construct with the static factories, which fix the detail texts Kubernetes uses.
 */
export class FieldError {
  private constructor(
    readonly type: FieldErrorType,
    /** The field path as printed, e.g. "spec.containers[0].name". */
    readonly field: string,
    readonly badValue: BadValue | typeof OMITTED,
    readonly detail: string,
  ) {}

  /** A required field is empty or absent. */
  static required(path: FieldPath, detail = ""): FieldError {
    return new FieldError("FieldValueRequired", path.toString(), "", detail);
  }

  /** The value is malformed or out of range; `detail` says what a valid value looks like. */
  static invalid(path: FieldPath, value: BadValue, detail: string): FieldError {
    return new FieldError("FieldValueInvalid", path.toString(), value, detail);
  }

  /** The value is not one of an enumerated set; the message lists `supported`, quoted. */
  static notSupported(path: FieldPath, value: BadValue, supported: readonly string[]): FieldError {
    const detail =
      supported.length > 0 ? `supported values: ${supported.map(goQuote).join(", ")}` : "";
    return new FieldError("FieldValueNotSupported", path.toString(), value, detail);
  }

  /** The value repeats one that must be unique (a container name, a port, a key). */
  static duplicate(path: FieldPath, value: BadValue): FieldError {
    return new FieldError("FieldValueDuplicate", path.toString(), value, "");
  }

  /** The value refers to something that does not exist. */
  static notFound(path: FieldPath, value: BadValue): FieldError {
    return new FieldError("FieldValueNotFound", path.toString(), value, "");
  }

  /** The value is well formed but not allowed here (immutable field, policy). */
  static forbidden(path: FieldPath, detail: string): FieldError {
    return new FieldError("FieldValueForbidden", path.toString(), "", detail);
  }

  /** The value is longer than `maxLength` bytes. The value itself is not printed. */
  static tooLong(path: FieldPath, value: BadValue, maxLength: number): FieldError {
    return new FieldError(
      "FieldValueTooLong",
      path.toString(),
      value,
      `must have at most ${maxLength} bytes`,
    );
  }

  /**
   * A list holds more than `max` items. `actual` is printed as the bad value; pass a negative
   * count to leave it out.
   */
  static tooMany(path: FieldPath, actual: number, max: number): FieldError {
    const detail = max >= 0 ? `must have at most ${max} items` : "has too many items";
    return new FieldError(
      "FieldValueTooMany",
      path.toString(),
      actual >= 0 ? actual : OMITTED,
      detail,
    );
  }

  /** Validation itself failed (a bug, not the user's input); `cause` supplies the detail. */
  static internal(path: FieldPath, cause: unknown): FieldError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new FieldError("InternalError", path.toString(), null, detail);
  }

  /** The message without the field path: `Invalid value: "Foo": <detail>`. */
  get body(): string {
    let body = TYPE_TEXT[this.type];
    if (!VALUE_NOT_SHOWN.has(this.type) && this.badValue !== OMITTED) {
      body += `: ${formatBadValue(this.badValue)}`;
    }
    if (this.detail.length > 0) body += `: ${this.detail}`;
    return body;
  }

  /** The full message: `<field>: <body>`. */
  get message(): string {
    return `${this.field}: ${this.body}`;
  }

  toString(): string {
    return this.message;
  }
}

/**
 * The message of a list of field errors, as Kubernetes' aggregate prints it: duplicates
 * (by message) dropped, one message alone as it is, several joined as `[a, b]`, none as "".
 */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const messages = [...new Set(errors.map((e) => e.message))];
  if (messages.length === 1) return messages[0] as string;
  if (messages.length === 0) return "";
  return `[${messages.join(", ")}]`;
}

/**
 * Thrown when input fails validation: carries every field error found (never just the first),
 * so the caller can report them all at once. `code` is the gRPC-aligned class of the failure.
 */
export class FieldErrorAggregate extends Error {
  override readonly name = "FieldErrorAggregate";
  readonly code = "invalid_argument";
  /** The distinct errors, in the order found. */
  readonly errors: readonly FieldError[];

  constructor(errors: readonly FieldError[], options?: { cause?: unknown }) {
    super(aggregateMessage(errors), options);
    const seen = new Set<string>();
    this.errors = errors.filter((e) => {
      if (seen.has(e.message)) return false;
      seen.add(e.message);
      return true;
    });
  }
}

/** Throws a {@link FieldErrorAggregate} when `errors` is not empty (ErrorList.ToAggregate). */
export function throwIfAny(errors: readonly FieldError[]): void {
  if (errors.length > 0) throw new FieldErrorAggregate(errors);
}

/**
 * Formats a bad value as the Kubernetes message does: strings quoted as Go's %q, numbers and
 * booleans bare, absent values as `null`, string lists as Go's %#v (`[]string{"a", "b"}`),
 * and any other object as JSON (Go would print its struct, which has no TypeScript analogue).
 */
function formatBadValue(value: BadValue): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return goQuote(value);
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    default:
      break;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return `[]string{${value.map(goQuote).join(", ")}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

const NAMED_ESCAPES: ReadonlyMap<string, string> = new Map([
  ["\u0007", "\\a"],
  ["\b", "\\b"],
  ["\f", "\\f"],
  ["\n", "\\n"],
  ["\r", "\\r"],
  ["\t", "\\t"],
  ["\v", "\\v"],
  ['"', '\\"'],
  ["\\", "\\\\"],
]);

/** Code points Go's strconv.IsPrint rejects: controls, format characters, separators but ' '. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\p{Zs}]/u;

/**
 * Quotes `s` as Go's strconv.Quote (the %q verb) does: printable characters as they are,
 * `"` and `\` escaped, the usual C escapes, other ASCII controls as \xNN, other unprintable
 * code points as \uNNNN or \UNNNNNNNN.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const named = NAMED_ESCAPES.get(ch);
    if (named !== undefined) {
      out += named;
      continue;
    }
    const cp = ch.codePointAt(0) as number;
    if (ch === " " || !NOT_PRINTABLE.test(ch)) {
      out += ch;
    } else if (cp < 0x80) {
      out += `\\x${cp.toString(16).padStart(2, "0")}`;
    } else if (cp <= 0xffff) {
      out += `\\u${cp.toString(16).padStart(4, "0")}`;
    } else {
      out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return `${out}"`;
}
