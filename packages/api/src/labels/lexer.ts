// Tokens of the label selector string form (the lexer of k8s.io/apimachinery/pkg/labels).

export type TokenKind =
  | "identifier"
  | "in"
  | "notin"
  | "!"
  | "="
  | "=="
  | "!="
  | ">"
  | "<"
  | "("
  | ")"
  | ","
  | "end";

export interface Token {
  readonly kind: TokenKind;
  /** The text of the token; "" at the end of the string. */
  readonly text: string;
}

const SPECIAL = new Set(["=", "!", "(", ")", ",", ">", "<"]);
const WHITESPACE = new Set([" ", "\t", "\r", "\n"]);
const TWO_CHARACTER_OPERATORS = new Set(["==", "!="]);

/**
 * Splits a selector into tokens. Identifiers are runs of anything but whitespace and the
 * special characters `= ! ( ) , > <`; the words `in` and `notin` are keywords (the parser
 * treats them as identifiers where a value is expected). Operators are read longest first,
 * so `!=` is one token and `!(` is two. The list always ends with an "end" token.
 */
export function tokenize(selector: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < selector.length) {
    const ch = selector[i] as string;
    if (WHITESPACE.has(ch)) {
      i++;
      continue;
    }
    if (SPECIAL.has(ch)) {
      const pair = selector.slice(i, i + 2);
      const text = TWO_CHARACTER_OPERATORS.has(pair) ? pair : ch;
      tokens.push({ kind: text as TokenKind, text });
      i += text.length;
      continue;
    }
    let end = i;
    while (end < selector.length) {
      const c = selector[end] as string;
      if (SPECIAL.has(c) || WHITESPACE.has(c)) break;
      end++;
    }
    const text = selector.slice(i, end);
    tokens.push({ kind: text === "in" || text === "notin" ? text : "identifier", text });
    i = end;
  }
  tokens.push({ kind: "end", text: "" });
  return tokens;
}
