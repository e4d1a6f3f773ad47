// One condition of a label selector: a key, an operator and values (labels.Requirement).

import { FieldError, FieldPath } from "../validation/field-error.js";
import { isQualifiedName, isValidLabelValue } from "../validation/names.js";
import { SelectorError } from "./selector-error.js";

/**
 * The operators of a label requirement, spelled as Kubernetes' selection.Operator values.
 * `gt`/`lt` compare integer label values; they come from node affinity and are written
 * `key>1`, `key<1` in the string form.
 */
export type Operator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

/** Every operator, in the order Kubernetes lists them in its "supported values" message. */
export const OPERATORS: readonly Operator[] = [
  "in",
  "notin",
  "=",
  "==",
  "!=",
  "exists",
  "!",
  "gt",
  "lt",
];

/** A label map as objects carry it (metadata.labels). Absent and empty are the same. */
export type LabelSet = Readonly<Record<string, string>>;

/** Go's strconv.ParseInt(s, 10, 64): an optionally signed decimal that fits in an int64. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

function under(path: FieldPath | undefined, name: string): FieldPath {
  return path === undefined ? FieldPath.root(name) : path.child(name);
}

/**
 * The problems with a requirement, as field errors under `path` (`key`, `values[i][key]`,
 * `operator` when no path is given), with Kubernetes' texts (labels.NewRequirement).
 */
export function validateRequirement(
  key: string,
  operator: string,
  values: readonly string[],
  path?: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const keyProblems = isQualifiedName(key);
  if (keyProblems.length > 0)
    errs.push(FieldError.invalid(under(path, "key"), key, keyProblems.join("; ")));

  const valuesPath = under(path, "values");
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0) {
        errs.push(
          FieldError.invalid(
            valuesPath,
            values,
            "for 'in', 'notin' operators, values set can't be empty",
          ),
        );
      }
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) {
        errs.push(
          FieldError.invalid(
            valuesPath,
            values,
            "exact-match compatibility requires one single value",
          ),
        );
      }
      break;
    case "exists":
    case "!":
      if (values.length !== 0) {
        errs.push(
          FieldError.invalid(
            valuesPath,
            values,
            "values set must be empty for exists and does not exist",
          ),
        );
      }
      break;
    case "gt":
    case "lt":
      if (values.length !== 1) {
        errs.push(
          FieldError.invalid(
            valuesPath,
            values,
            "for 'Gt', 'Lt' operators, exactly one value is required",
          ),
        );
      }
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(
            FieldError.invalid(
              valuesPath.index(i),
              v,
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
    default:
      errs.push(FieldError.notSupported(under(path, "operator"), operator, OPERATORS));
  }

  values.forEach((v, i) => {
    const problems = isValidLabelValue(v);
    if (problems.length > 0) {
      errs.push(FieldError.invalid(valuesPath.index(i).key(key), v, problems.join("; ")));
    }
  });
  return errs;
}

/**
 * A valid requirement. Immutable; `values` are sorted and distinct (a set), which is how the
 * string form prints them and what an indexer wants.
 */
export class Requirement {
  readonly values: readonly string[];

  private constructor(
    readonly key: string,
    readonly operator: Operator,
    values: readonly string[],
  ) {
    this.values = Object.freeze([...new Set(values)].sort());
  }

  /**
   * A requirement after validation (labels.NewRequirement). Throws {@link SelectorError}
   * holding the field errors when the key, operator or values are invalid; `path` places
   * those errors in an object (e.g. spec.selector).
   */
  static create(
    key: string,
    operator: string,
    values: readonly string[],
    path?: FieldPath,
  ): Requirement {
    const errs = validateRequirement(key, operator, values, path);
    if (errs.length > 0) {
      const shown = `${key} ${operator} (${values.join(",")})`;
      throw SelectorError.fromFieldErrors("label", shown, errs);
    }
    return new Requirement(key, operator as Operator, values);
  }

  /** For callers that already ran {@link validateRequirement} and found nothing. */
  static fromValidated(key: string, operator: Operator, values: readonly string[]): Requirement {
    return new Requirement(key, operator, values);
  }

  /**
   * Whether `labels` satisfy this requirement. `in`/`=`/`==` need the key present with one of
   * the values; `notin`/`!=` are satisfied by an absent key; `gt`/`lt` need the key present
   * with an integer value.
   */
  matches(labels: LabelSet | undefined): boolean {
    const has = labels !== undefined && Object.hasOwn(labels, this.key);
    const value = has ? (labels as LabelSet)[this.key] : undefined;
    switch (this.operator) {
      case "in":
      case "=":
      case "==":
        return value !== undefined && this.values.includes(value);
      case "notin":
      case "!=":
        return value === undefined || !this.values.includes(value);
      case "exists":
        return has;
      case "!":
        return !has;
      case "gt":
      case "lt": {
        if (value === undefined) return false;
        const actual = parseInt64(value);
        const bound = this.values.length === 1 ? parseInt64(this.values[0] as string) : undefined;
        if (actual === undefined || bound === undefined) return false;
        return this.operator === "gt" ? actual > bound : actual < bound;
      }
    }
  }

  /** The string form: `a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`. */
  toString(): string {
    const values = this.values.join(",");
    switch (this.operator) {
      case "exists":
        return this.key;
      case "!":
        return `!${this.key}`;
      case "in":
        return `${this.key} in (${values})`;
      case "notin":
        return `${this.key} notin (${values})`;
      case "gt":
        return `${this.key}>${values}`;
      case "lt":
        return `${this.key}<${values}`;
      default:
        return `${this.key}${this.operator}${values}`;
    }
  }
}
