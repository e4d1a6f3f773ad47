// JSON Pointer, RFC 6901: "" is the whole document; otherwise "/" followed by reference tokens
// separated by "/", in which "~1" stands for "/" and "~0" for "~" (§3, §4).
import { PatchError } from "./patch-error.js";

/**
 * Splits `pointer` into its unescaped reference tokens ("" gives []). Throws a malformed
 * PatchError if it neither is empty nor starts with "/", or holds a "~" not followed by 0 or 1.
 */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) {
    throw new PatchError(
      "malformed",
      `JSON pointer ${JSON.stringify(pointer)} must be "" (the whole document) or start with "/"`,
    );
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) {
        throw new PatchError(
          "malformed",
          `JSON pointer ${JSON.stringify(pointer)} has a "~" not followed by 0 or 1: write "~0" for "~" and "~1" for "/"`,
        );
      }
      // ~1 first, then ~0: "~01" is "~1" unescaped, not "/" (RFC 6901 §4).
      return token.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

/** The pointer for `tokens`, escaping "~" as "~0" and "/" as "~1". */
export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}
