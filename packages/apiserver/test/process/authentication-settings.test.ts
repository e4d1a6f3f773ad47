// tug-apiserver's authentication flags: files read at start, every problem named with its flag.

import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, parseSettings } from "../../src/process/settings.js";

const pem = generateKeyPairSync("ec", { namedCurve: "P-256" })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();
const files: Record<string, string> = {
  "/etc/tug/tokens.csv": 'secret-1,alice,1001,"dev,ops"\n',
  "/etc/tug/sa.pub": pem,
  "/etc/tug/bad-tokens.csv": "secret-1,alice\n",
  "/etc/tug/not-a-key": "hello\n",
};
const readFile = (path: string) => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return text;
};
const base = ["--etcd-servers=http://127.0.0.1:2379"];

function settings(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseSettings([...base, ...argv], { env, readFile });
  if (parsed.kind !== "run") throw new Error(parsed.output);
  return parsed.settings.authentication;
}

function problems(argv: string[]): readonly string[] {
  try {
    parseSettings([...base, ...argv], { env: {}, readFile });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("authentication settings", () => {
  it("defaults to anonymous requests allowed, lookup on, no tokens and no keys", () => {
    expect(settings([])).toEqual({
      serviceAccountKeys: [],
      serviceAccountIssuers: [],
      serviceAccountLookup: true,
      anonymous: true,
    });
  });

  it("reads the token file and the service account keys, from flags or the environment", () => {
    const a = settings([
      "--token-auth-file=/etc/tug/tokens.csv",
      "--service-account-key-file=/etc/tug/sa.pub",
      "--service-account-issuer=https://tug.local,https://other",
      "--anonymous-auth=false",
    ]);
    expect(a.tokens?.get("secret-1")).toEqual({
      name: "alice",
      uid: "1001",
      groups: ["dev", "ops", "system:authenticated"],
    });
    expect(a.serviceAccountKeys.map((k) => k.asymmetricKeyType)).toEqual(["ec"]);
    expect(a.serviceAccountIssuers).toEqual(["https://tug.local", "https://other"]);
    expect(a.anonymous).toBe(false);
    expect(
      settings([], { TUG_APISERVER_TOKEN_AUTH_FILE: "/etc/tug/tokens.csv" }).tokens?.size,
    ).toBe(1);
  });

  it("names the flag and the fix for unreadable or malformed files and bad booleans", () => {
    expect(
      problems([
        "--token-auth-file=/etc/tug/bad-tokens.csv",
        "--service-account-key-file=/etc/tug/missing.pub,/etc/tug/not-a-key",
        "--anonymous-auth=yes",
      ]),
    ).toEqual([
      '--token-auth-file /etc/tug/bad-tokens.csv, line 1: has 2 column(s); each line needs token,user,uid and optionally "group1,group2"',
      "--service-account-key-file \"/etc/tug/missing.pub\" cannot be read (ENOENT: no such file or directory, open '/etc/tug/missing.pub'); give a readable file",
      "--service-account-key-file /etc/tug/not-a-key: no PEM block found; give the public (or private) key(s) used to sign service account tokens",
      '--anonymous-auth "yes" is not a boolean; give true or false',
    ]);
  });
});
