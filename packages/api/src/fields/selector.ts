// Field selectors: `metadata.name=x,spec.nodeName!=,status.phase=Running` (fields.Selector).
//
// A field selector is a conjunction of equality (`=`, `==`) and inequality (`!=`) terms on
// named fields of an object. Which fields exist is up to each kind (every kind has
// metadata.name and metadata.namespace; a Pod adds spec.nodeName, status.phase, ...), so
// matching reads values through the caller, and {@link Selector.checkFields} rejects a field
// the kind does not support, as the Kubernetes API server does.
// Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/

import { SelectorError } from "../labels/selector-error.js";
import { escapeValue, unescapeValue } from "./escape.js";

/** One term: `field=value` or `field!=value` (`==` is read as `=`). */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: "=" | "!=";
  readonly value: string;
}

/**
 * An object's selectable fields: a map from field name to its value as a string, or a
 * function returning it. An unset field's value is "" (so `spec.nodeName=` selects unbound
 * pods). As a map, its keys are also the fields the kind supports.
 */
export type FieldSource = Readonly<Record<string, string>> | ((field: string) => string);

/** Operators in the order a term is searched for them, so `!=` and `==` win over `=`. */
const TERM_OPERATORS = ["!=", "==", "="] as const;

/** Splits a selector into terms at commas that are not escaped. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaping = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (escaping) escaping = false;
    else if (ch === "\\") escaping = true;
    else if (ch === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The first operator in `term` and the text either side of it, or undefined if none. */
function splitTerm(term: string): { field: string; operator: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const operator of TERM_OPERATORS) {
      if (term.startsWith(operator, i)) {
        return { field: term.slice(0, i), operator, rhs: term.slice(i + operator.length) };
      }
    }
  }
  return undefined;
}

function byTerm(a: FieldRequirement, b: FieldRequirement): number {
  const x = termString(a);
  const y = termString(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function termString(r: FieldRequirement): string {
  return `${r.field}${r.operator}${escapeValue(r.value)}`;
}

/**
 * A field selector. Immutable. Its requirements are kept in the order of their canonical text,
 * which makes {@link Selector.toString} canonical.
 */
export class Selector {
  private constructor(
    /** The terms; all must hold. Empty for {@link Selector.everything}. */
    readonly requirements: readonly FieldRequirement[],
  ) {}

  private static readonly EVERYTHING = new Selector(Object.freeze([]));

  /** Matches every object (fields.Everything). */
  static everything(): Selector {
    return Selector.EVERYTHING;
  }

  /**
   * Parses `field=value,field!=value,...` (fields.ParseSelector). Values are unescaped
   * (`\,` `\=` `\\`); empty terms are skipped; the empty string is {@link Selector.everything}.
   * Throws {@link SelectorError}.
   */
  static parse(selector: string): Selector {
    const requirements: FieldRequirement[] = [];
    for (const term of splitTerms(selector)) {
      if (term === "") continue;
      const parts = splitTerm(term);
      if (parts === undefined) {
        throw new SelectorError(
          "field",
          selector,
          `invalid selector: '${selector}'; can't understand '${term}'`,
        );
      }
      const unescaped = unescapeValue(parts.rhs);
      if ("problem" in unescaped) throw new SelectorError("field", selector, unescaped.problem);
      requirements.push({
        field: parts.field,
        operator: parts.operator === "!=" ? "!=" : "=",
        value: unescaped.value,
      });
    }
    return Selector.of(requirements);
  }

  /** `field=value` (fields.OneTermEqualSelector). */
  static oneTermEqual(field: string, value: string): Selector {
    return Selector.of([{ field, operator: "=", value }]);
  }

  /** `field!=value` (fields.OneTermNotEqualSelector). */
  static oneTermNotEqual(field: string, value: string): Selector {
    return Selector.of([{ field, operator: "!=", value }]);
  }

  /** Every field equal to its value in `set` (fields.SelectorFromSet); empty is everything. */
  static fromSet(set: Readonly<Record<string, string>>): Selector {
    return Selector.of(
      Object.entries(set).map(([field, value]) => ({ field, operator: "=" as const, value })),
    );
  }

  /** The selector of exactly `requirements`. */
  static of(requirements: readonly FieldRequirement[]): Selector {
    if (requirements.length === 0) return Selector.EVERYTHING;
    return new Selector(
      Object.freeze(requirements.map((r) => Object.freeze({ ...r })).sort(byTerm)),
    );
  }

  /** True when the selector does not restrict anything (fields.Selector.Empty). */
  isEverything(): boolean {
    return this.requirements.length === 0;
  }

  /** Whether an object whose fields `source` gives satisfies every term. */
  matches(source: FieldSource): boolean {
    const fieldValue =
      typeof source === "function"
        ? source
        : (field: string) => (Object.hasOwn(source, field) ? (source[field] as string) : "");
    return this.requirements.every(
      (r) => (fieldValue(r.field) === r.value) === (r.operator === "="),
    );
  }

  /**
   * Throws {@link SelectorError} naming the first field outside `supported`, and listing
   * `supported`: the API server's answer to a field selector on a field the kind lacks.
   */
  checkFields(supported: readonly string[]): void {
    const known = new Set(supported);
    for (const r of this.requirements) {
      if (!known.has(r.field)) {
        throw new SelectorError(
          "field",
          this.toString(),
          `field label not supported: ${r.field}; supported field labels: ${supported.join(", ")}`,
        );
      }
    }
  }

  /**
   * The value `field` must equal for this selector to match, when an `=` term pins it
   * (fields.Selector.RequiresExactMatch); undefined otherwise. Lets an index (pods by
   * spec.nodeName) answer the query instead of a scan.
   */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === "=")?.value;
  }

  /** The canonical text: terms sorted, `==` printed as `=`, values escaped. */
  toString(): string {
    return this.requirements.map(termString).join(",");
  }
}
