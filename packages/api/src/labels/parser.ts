// The label selector string form, parsed into requirements (labels.Parse).
//
//   <selector-syntax>         ::= <requirement> | <requirement> "," <selector-syntax>
//   <requirement>             ::= [!] KEY [ <set-based-restriction> | <exact-match-restriction> ]
//   <set-based-restriction>   ::= "" | <inclusion-exclusion> <value-set>
//   <inclusion-exclusion>     ::= "in" | "notin"
//   <value-set>               ::= "(" <values> ")"
//   <values>                  ::= VALUE | VALUE "," <values>
//   <exact-match-restriction> ::= ["=" | "==" | "!=" | ">" | "<"] VALUE
//
// Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
// Error texts are Kubernetes' (some are odd, e.g. the missing quote before notin; clients
// and people compare them with what kubectl prints, so they are kept).

import { aggregateMessage, type FieldPath } from "../validation/field-error.js";
import { type Token, type TokenKind, tokenize } from "./lexer.js";
import { type Operator, Requirement, validateRequirement } from "./requirement.js";
import { SelectorError } from "./selector-error.js";

const OPERATOR_OF_TOKEN: Partial<Record<TokenKind, Operator>> = {
  in: "in",
  notin: "notin",
  "=": "=",
  "==": "==",
  "!=": "!=",
  ">": "gt",
  "<": "lt",
};

/** A syntax error, with Kubernetes' text; the caller adds the selector. */
class SyntaxProblem {
  constructor(readonly reason: string) {}
}

class Parser {
  private position = 0;

  constructor(
    private readonly selector: string,
    private readonly tokens: readonly Token[],
    private readonly path: FieldPath | undefined,
  ) {}

  /**
   * The next token without taking it. Where a value may stand (`valueContext`), the keywords
   * `in` and `notin` are plain identifiers, so `key in (in,notin)` and `in=notin` parse.
   */
  private peek(valueContext = true): Token {
    const token = this.tokens[this.position] as Token;
    if (valueContext && (token.kind === "in" || token.kind === "notin")) {
      return { kind: "identifier", text: token.text };
    }
    return token;
  }

  private next(valueContext = true): Token {
    const token = this.peek(valueContext);
    if (token.kind !== "end") this.position++;
    return token;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const first = this.peek();
      if (first.kind === "end") return requirements;
      if (first.kind !== "identifier" && first.kind !== "!") {
        throw new SyntaxProblem(
          `found '${first.text}', expected: !, identifier, or 'end of string'`,
        );
      }
      requirements.push(this.parseRequirement());
      const after = this.next();
      if (after.kind === "end") return requirements;
      if (after.kind !== ",") {
        throw new SyntaxProblem(`found '${after.text}', expected: ',' or 'end of string'`);
      }
      const following = this.peek();
      if (following.kind !== "identifier" && following.kind !== "!") {
        throw new SyntaxProblem(`found '${following.text}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): Requirement {
    let token = this.next();
    const negated = token.kind === "!";
    if (negated) token = this.next();
    if (token.kind !== "identifier") {
      throw new SyntaxProblem(
        `unable to parse requirement: found '${token.text}', expected: identifier`,
      );
    }
    const key = token.text;
    const following = this.peek();
    if (negated || following.kind === "end" || following.kind === ",") {
      return this.build(key, negated ? "!" : "exists", []);
    }

    const operatorToken = this.next(false);
    const operator = OPERATOR_OF_TOKEN[operatorToken.kind];
    if (operator === undefined) {
      throw new SyntaxProblem(
        `unable to parse requirement: found '${operatorToken.text}', expected: '=', '!=', '==', 'in', notin'`,
      );
    }
    const values =
      operator === "in" || operator === "notin" ? this.parseValueSet() : [this.parseExactValue()];
    // A value set: sorted and distinct before validation, so errors index it as printed.
    return this.build(key, operator, [...new Set(values)].sort());
  }

  /** `(a,b)`; empty entries are the empty value: `()` and `(a,)` both hold "". */
  private parseValueSet(): string[] {
    const open = this.next();
    if (open.kind !== "(")
      throw new SyntaxProblem(`unable to parse requirement: found '${open.text}' expected: '('`);
    const first = this.peek();
    if (first.kind === ")") {
      this.next();
      return [""];
    }
    if (first.kind !== "identifier" && first.kind !== ",") {
      throw new SyntaxProblem(
        `unable to parse requirement: found '${first.text}', expected: ',', ')' or identifier`,
      );
    }
    const values: string[] = [];
    let expectingValue = true;
    for (;;) {
      const token = this.peek();
      if (token.kind === "identifier") {
        if (!expectingValue) {
          throw new SyntaxProblem(
            `unable to parse requirement: found '${token.text}', expected: ',' or ')'`,
          );
        }
        this.next();
        values.push(token.text);
        expectingValue = false;
      } else if (token.kind === ",") {
        this.next();
        if (expectingValue) values.push("");
        expectingValue = true;
      } else if (token.kind === ")") {
        this.next();
        if (expectingValue) values.push("");
        return values;
      } else {
        throw new SyntaxProblem(
          expectingValue
            ? `unable to parse requirement: found '${token.text}', expected: ',', or identifier`
            : `unable to parse requirement: found '${token.text}', expected: ',' or ')'`,
        );
      }
    }
  }

  /** The single value after `=`, `==`, `!=`, `>`, `<`; nothing before `,` or the end is "". */
  private parseExactValue(): string {
    const token = this.peek();
    if (token.kind === "end" || token.kind === ",") return "";
    this.next();
    if (token.kind !== "identifier") {
      throw new SyntaxProblem(
        `unable to parse requirement: found '${token.text}', expected: identifier`,
      );
    }
    return token.text;
  }

  private build(key: string, operator: Operator, values: readonly string[]): Requirement {
    const errs = validateRequirement(key, operator, values, this.path);
    if (errs.length > 0) {
      const reason = `unable to parse requirement: ${aggregateMessage(errs)}`;
      throw new SelectorError("label", this.selector, reason, errs);
    }
    return Requirement.fromValidated(key, operator, values);
  }
}

/**
 * Parses the string form of a label selector into its requirements, sorted by key (stable, so
 * requirements on one key keep their order). Throws {@link SelectorError}. `path` places
 * validation errors inside an object; without it they are named `key` and `values[i][key]`.
 */
export function parseRequirements(selector: string, path?: FieldPath): Requirement[] {
  const parser = new Parser(selector, tokenize(selector), path);
  let requirements: Requirement[];
  try {
    requirements = parser.parse();
  } catch (e) {
    if (e instanceof SyntaxProblem) throw new SelectorError("label", selector, e.reason);
    throw e;
  }
  return requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
