// kube-apiserver's static token file (--token-auth-file): a CSV file with at least three
// columns — token, user name, user uid — and an optional fourth holding the groups, quoted
// when there are several: `31ada4fd-adec-460c-809a-9e56ceb75269,alice,1001,"dev,ops"`.
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#static-token-file

import { AUTHENTICATED_GROUP, type UserInfo } from "./user-info.js";

/** A token file that cannot be used, naming the file and line. */
export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
}

/** Splits one CSV record: fields separated by commas, a field may be double-quoted ("" = "). */
function csvFields(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= line.length) return undefined; // unterminated quote
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i];
        i++;
      }
      if (i < line.length && line[i] !== ",") return undefined; // text after a closing quote
      fields.push(value);
      i++;
    } else {
      const end = line.indexOf(",", i);
      const stop = end === -1 ? line.length : end;
      fields.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return fields;
}

/**
 * Parses a token file's text into token → user. Blank lines are skipped; a line with fewer
 * than three columns, an empty token or user, or a token listed twice is an error naming the
 * line, so that a typo never silently locks a user out or in.
 */
export function parseTokenFile(text: string, file = "token file"): Map<string, UserInfo> {
  const users = new Map<string, UserInfo>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const where = `${file}, line ${index + 1}`;
    const fields = csvFields(line);
    if (fields === undefined) {
      throw new TokenFileError(
        `${where}: unbalanced double quote; quote the groups column as "a,b"`,
      );
    }
    if (fields.length < 3) {
      throw new TokenFileError(
        `${where}: has ${fields.length} column(s); each line needs token,user,uid and optionally "group1,group2"`,
      );
    }
    const [token = "", name = "", uid = "", groupsField = ""] = fields.map((f) => f.trim());
    if (token === "") throw new TokenFileError(`${where}: the token (column 1) is empty`);
    if (name === "") throw new TokenFileError(`${where}: the user name (column 2) is empty`);
    if (users.has(token)) {
      throw new TokenFileError(
        `${where}: this token is already given to "${users.get(token)?.name}"`,
      );
    }
    const groups = groupsField
      .split(",")
      .map((g) => g.trim())
      .filter((g) => g !== "");
    users.set(token, { name, uid, groups: [...groups, AUTHENTICATED_GROUP] });
  }
  return users;
}
