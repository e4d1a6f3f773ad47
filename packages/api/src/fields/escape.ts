// Escaping of field selector values (fields.EscapeValue / fields.UnescapeValue): a value may
// hold ',' '=' and '\' only escaped as '\,' '\=' and '\\', so that terms and operators stay
// unambiguous.

/** Escapes `\`, `,` and `=` so that `value` can stand on the right of a field selector term. */
export function escapeValue(value: string): string {
  return value.replace(/[\\,=]/g, (ch) => `\\${ch}`);
}

/**
 * Undoes {@link escapeValue}. Returns the unescaped value, or the reason (Kubernetes' text) it
 * is malformed: an unknown escape (`\x`), a trailing `\`, or an unescaped `,` or `=`.
 */
export function unescapeValue(value: string): { value: string } | { problem: string } {
  if (!/[\\,=]/.test(value)) return { value };
  let out = "";
  let escaping = false;
  for (const ch of value) {
    if (escaping) {
      if (ch !== "\\" && ch !== "," && ch !== "=") {
        return { problem: `invalid field selector: invalid escape sequence: \\${ch}` };
      }
      out += ch;
      escaping = false;
    } else if (ch === "\\") {
      escaping = true;
    } else if (ch === "," || ch === "=") {
      return { problem: `invalid field selector: unescaped character in value: '${ch}'` };
    } else {
      out += ch;
    }
  }
  if (escaping) return { problem: "invalid field selector: invalid escape sequence: \\" };
  return { value: out };
}
