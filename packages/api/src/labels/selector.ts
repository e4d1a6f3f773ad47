// Label selectors: a conjunction of requirements matched against an object's labels
// (labels.Selector), built from the string form, from a label set, or from a LabelSelector
// object (metav1.LabelSelectorAsSelector).
// Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/

import { FieldError, FieldPath } from "../validation/field-error.js";
import { parseRequirements } from "./parser.js";
import { type LabelSet, type Operator, Requirement, validateRequirement } from "./requirement.js";
import { SelectorError } from "./selector-error.js";

/** One entry of matchExpressions, with the operators of the object form. */
export interface LabelSelectorRequirementShape {
  readonly key: string;
  /** "In", "NotIn", "Exists" or "DoesNotExist". */
  readonly operator: string;
  readonly values?: readonly string[];
}

/**
 * The LabelSelector object shape (spec.selector of a Deployment, ReplicaSet, Service's
 * selector is a plain map instead). Structural, so a generated protobuf message fits it.
 */
export interface LabelSelectorShape {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirementShape[];
}

/**
 * One NodeSelectorRequirement (node affinity's matchExpressions), whose operators add Gt and
 * Lt to those of a LabelSelector.
 */
export interface NodeSelectorRequirementShape {
  readonly key: string;
  /** "In", "NotIn", "Exists", "DoesNotExist", "Gt" or "Lt". */
  readonly operator: string;
  readonly values?: readonly string[];
}

/** Node selector operators and their string-form equivalents. */
const NODE_SELECTOR_OPERATORS: ReadonlyMap<string, Operator> = new Map<string, Operator>([
  ["In", "in"],
  ["NotIn", "notin"],
  ["Exists", "exists"],
  ["DoesNotExist", "!"],
  ["Gt", "gt"],
  ["Lt", "lt"],
]);

/** The object form's operators and their string-form equivalents. */
const OBJECT_OPERATORS: ReadonlyMap<string, Operator> = new Map<string, Operator>([
  ["In", "in"],
  ["NotIn", "notin"],
  ["Exists", "exists"],
  ["DoesNotExist", "!"],
]);

function byKey(a: Requirement, b: Requirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * A label selector: matches a label set when every requirement does. Immutable. The
 * requirements are sorted by key, which makes {@link Selector.toString} canonical.
 *
 * Two selectors match everything or nothing: {@link Selector.everything} (no requirements; the
 * empty string, or an empty LabelSelector object) and {@link Selector.nothing} (an absent
 * LabelSelector object). Indexers read `requirements`, and must check `selectable` first:
 * Nothing has no requirements either, but selects no object.
 */
export class Selector {
  private constructor(
    /** The requirements, sorted by key; all must hold. */
    readonly requirements: readonly Requirement[],
    /** False only for {@link Selector.nothing}. */
    readonly selectable: boolean,
  ) {}

  private static readonly EVERYTHING = new Selector(Object.freeze([]), true);
  private static readonly NOTHING = new Selector(Object.freeze([]), false);

  /** Matches every label set (labels.Everything). */
  static everything(): Selector {
    return Selector.EVERYTHING;
  }

  /** Matches no label set (labels.Nothing). */
  static nothing(): Selector {
    return Selector.NOTHING;
  }

  /**
   * Parses the string form: `a=b,c!=d,e in (x,y),f notin (z),g,!h`, also `==`, `>` and `<`.
   * The empty string is {@link Selector.everything}. Throws {@link SelectorError}.
   */
  static parse(selector: string, path?: FieldPath): Selector {
    const requirements = parseRequirements(selector, path);
    return requirements.length === 0
      ? Selector.EVERYTHING
      : new Selector(Object.freeze(requirements), true);
  }

  /**
   * The selector that matches exactly the labels in `set` (labels.SelectorFromValidatedSet,
   * but validated: an invalid key or value throws {@link SelectorError}). An empty or absent
   * set is {@link Selector.everything}, as for a Service's spec.selector.
   */
  static fromSet(set: LabelSet | undefined, path?: FieldPath): Selector {
    const keys = Object.keys(set ?? {});
    if (set === undefined || keys.length === 0) return Selector.EVERYTHING;
    return Selector.build(
      keys.map((key) => Requirement.create(key, "=", [set[key] as string], path)),
    );
  }

  /**
   * The selector of a LabelSelector object (metav1.LabelSelectorAsSelector): absent is
   * {@link Selector.nothing}, empty is {@link Selector.everything}. Throws
   * {@link SelectorError} for an unknown operator or an invalid requirement.
   */
  static fromObject(object: LabelSelectorShape | undefined, path?: FieldPath): Selector {
    if (object === undefined) return Selector.NOTHING;
    const matchLabels = object.matchLabels ?? {};
    const expressions = object.matchExpressions ?? [];
    const labelKeys = Object.keys(matchLabels);
    if (labelKeys.length === 0 && expressions.length === 0) return Selector.EVERYTHING;

    const requirements = labelKeys.map((key) =>
      Requirement.create(key, "=", [matchLabels[key] as string], path),
    );
    for (const expression of expressions) {
      const operator = OBJECT_OPERATORS.get(expression.operator);
      if (operator === undefined) {
        throw new SelectorError(
          "label",
          JSON.stringify(object),
          `${JSON.stringify(expression.operator)} is not a valid label selector operator; supported operators: "In", "NotIn", "Exists", "DoesNotExist"`,
        );
      }
      requirements.push(
        Requirement.create(expression.key, operator, expression.values ?? [], path),
      );
    }
    return Selector.build(requirements);
  }

  /**
   * The selector of a node selector term's matchExpressions, as the scheduler's node affinity
   * reads it (nodeaffinity.nodeSelectorRequirementsAsSelector): an empty list selects nothing.
   * Every problem is reported at once, under `path` indexed by requirement, as a
   * {@link SelectorError} whose `errors` hold the field errors.
   */
  static fromNodeSelectorRequirements(
    requirements: readonly NodeSelectorRequirementShape[],
    path?: FieldPath,
  ): Selector {
    if (requirements.length === 0) return Selector.NOTHING;
    const errs: FieldError[] = [];
    const built: Requirement[] = [];
    requirements.forEach((requirement, i) => {
      const at = path === undefined ? FieldPath.root("").index(i) : path.index(i);
      const operator = NODE_SELECTOR_OPERATORS.get(requirement.operator);
      if (operator === undefined) {
        errs.push(
          FieldError.notSupported(at.child("operator"), requirement.operator, [
            ...NODE_SELECTOR_OPERATORS.keys(),
          ]),
        );
        return;
      }
      const values = requirement.values ?? [];
      const problems = validateRequirement(requirement.key, operator, values, at);
      if (problems.length > 0) errs.push(...problems);
      else built.push(Requirement.fromValidated(requirement.key, operator, values));
    });
    if (errs.length > 0) {
      throw SelectorError.fromFieldErrors("label", JSON.stringify(requirements), errs);
    }
    return Selector.build(built);
  }

  private static build(requirements: Requirement[]): Selector {
    return new Selector(Object.freeze(requirements.sort(byKey)), true);
  }

  /** Whether `labels` (absent means none) satisfy every requirement. */
  matches(labels: LabelSet | undefined): boolean {
    if (!this.selectable) return false;
    return this.requirements.every((r) => r.matches(labels));
  }

  /** True when the selector does not restrict anything (labels.Selector.Empty). */
  isEverything(): boolean {
    return this.selectable && this.requirements.length === 0;
  }

  /** This selector with `requirements` added (and re-sorted). Nothing stays Nothing. */
  add(...requirements: Requirement[]): Selector {
    if (!this.selectable) return this;
    return Selector.build([...this.requirements, ...requirements]);
  }

  /**
   * The value `key` must have for this selector to match, when a single `=`/`==`/`in (v)`
   * requirement pins it (labels.Selector.RequiresExactMatch); undefined otherwise. Lets an
   * index answer the query instead of a scan.
   */
  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if (
        (r.operator === "=" || r.operator === "==" || r.operator === "in") &&
        r.values.length === 1
      ) {
        return r.values[0];
      }
    }
    return undefined;
  }

  /** The canonical string form: requirements sorted by key, values sorted, comma-joined. */
  toString(): string {
    return this.requirements.map(String).join(",");
  }
}
