import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ANONYMOUS,
  Authenticator,
  LEGACY_ISSUER,
  parseTokenFile,
  publicKeysFromPem,
  ServiceAccountTokenAuthenticator,
  TokenFileError,
  UnauthorizedError,
} from "../../src/authn/index.js";

function jwt(key: KeyObject, header: object, claims: object): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signature =
    key.asymmetricKeyType === "ec"
      ? sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" })
      : sign("sha256", Buffer.from(input), key);
  return `${input}.${signature.toString("base64url")}`;
}

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });

const legacyClaims = {
  iss: LEGACY_ISSUER,
  "kubernetes.io/serviceaccount/namespace": "team-a",
  "kubernetes.io/serviceaccount/secret.name": "builder-token",
  "kubernetes.io/serviceaccount/service-account.name": "builder",
  "kubernetes.io/serviceaccount/service-account.uid": "uid-1",
  sub: "system:serviceaccount:team-a:builder",
};

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UnauthorizedError) {
      expect(e.message).toBe("Unauthorized");
      return e.why;
    }
    throw e;
  }
  throw new Error("expected the request to be refused");
}

describe("static token file", () => {
  it("reads token,user,uid and quoted groups, adding system:authenticated", () => {
    const users = parseTokenFile(
      'secret-1,alice,1001,"dev,ops"\n\nsecret-2,bob,1002\r\nsecret-3,carol,1003,admins\n',
    );
    expect(users.get("secret-1")).toEqual({
      name: "alice",
      uid: "1001",
      groups: ["dev", "ops", "system:authenticated"],
    });
    expect(users.get("secret-2")?.groups).toEqual(["system:authenticated"]);
    expect(users.get("secret-3")?.groups).toEqual(["admins", "system:authenticated"]);
  });

  it("names the file and line of a bad entry", () => {
    expect(() => parseTokenFile("a,alice,1\nb,bob\n", "/etc/tokens.csv")).toThrow(
      new TokenFileError(
        '/etc/tokens.csv, line 2: has 2 column(s); each line needs token,user,uid and optionally "group1,group2"',
      ),
    );
    expect(() => parseTokenFile("a,alice,1\na,bob,2\n")).toThrow(
      /line 2: this token is already given to "alice"/,
    );
    expect(() => parseTokenFile(",alice,1\n")).toThrow(/line 1: the token \(column 1\) is empty/);
    expect(() => parseTokenFile('a,alice,1,"dev,ops\n')).toThrow(/line 1: unbalanced double quote/);
  });
});

describe("service account tokens", () => {
  const keys = [rsa.publicKey, ec.publicKey];

  it("accepts a legacy token signed by a known RSA or EC key, as the account's user", async () => {
    const accounts = new ServiceAccountTokenAuthenticator({ keys });
    for (const key of [rsa.privateKey, ec.privateKey]) {
      const alg = key.asymmetricKeyType === "ec" ? "ES256" : "RS256";
      const user = await accounts.authenticate(jwt(key, { alg }, legacyClaims));
      expect(user).toEqual({
        name: "system:serviceaccount:team-a:builder",
        uid: "uid-1",
        groups: ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"],
      });
    }
  });

  it("refuses an unknown key, an unknown issuer, an expired token and a deleted secret", async () => {
    const accounts = new ServiceAccountTokenAuthenticator({ keys, now: () => 1_000 });
    await expect(
      accounts.authenticate(jwt(other.privateKey, { alg: "RS256" }, legacyClaims)),
    ).rejects.toThrow("the JWT signature matches none of the keys");
    await expect(
      accounts.authenticate(
        jwt(rsa.privateKey, { alg: "RS256" }, { ...legacyClaims, iss: "someone" }),
      ),
    ).rejects.toThrow('the JWT issuer "someone" is not accepted');
    await expect(
      accounts.authenticate(jwt(rsa.privateKey, { alg: "RS256" }, { ...legacyClaims, exp: 999 })),
    ).rejects.toThrow("the token has expired");
    await expect(
      accounts.authenticate(jwt(rsa.privateKey, { alg: "HS256" }, legacyClaims)),
    ).rejects.toThrow('unsupported JWT algorithm "HS256"');
    const lookups: unknown[] = [];
    const withLookup = new ServiceAccountTokenAuthenticator({
      keys,
      lookup: async (ref) => {
        lookups.push(ref);
        return false;
      },
    });
    await expect(
      withLookup.authenticate(jwt(rsa.privateKey, { alg: "RS256" }, legacyClaims)),
    ).rejects.toThrow(
      "the token's Secret team-a/builder-token or ServiceAccount team-a/builder no longer exists",
    );
    expect(lookups).toEqual([
      { namespace: "team-a", account: "builder", accountUid: "uid-1", secret: "builder-token" },
    ]);
  });

  it("reads every key of a PEM file, public or private", () => {
    const pem = `${rsa.publicKey.export({ type: "spki", format: "pem" })}${ec.privateKey.export({ type: "pkcs8", format: "pem" })}`;
    const read = publicKeysFromPem(pem, "sa.pub");
    expect(read.map((k) => k.asymmetricKeyType)).toEqual(["rsa", "ec"]);
    expect(() => publicKeysFromPem("nothing here", "sa.pub")).toThrow(/sa.pub: no PEM block found/);
  });
});

describe("Authenticator", () => {
  const tokens = parseTokenFile("secret-1,alice,1001\n");
  const serviceAccounts = new ServiceAccountTokenAuthenticator({ keys: [rsa.publicKey] });

  it("treats a request without credentials as anonymous, unless anonymous requests are off", async () => {
    expect(await new Authenticator({ tokens }).authenticate([])).toEqual(ANONYMOUS);
    expect(await refusal(new Authenticator({ tokens, anonymous: false }).authenticate([]))).toMatch(
      /anonymous requests are disabled/,
    );
  });

  it("authenticates bearer tokens from the file or as service accounts", async () => {
    const authn = new Authenticator({ tokens, serviceAccounts });
    expect((await authn.authenticate(["Bearer secret-1"])).name).toBe("alice");
    expect(
      (await authn.authenticate([`bearer ${jwt(rsa.privateKey, { alg: "RS256" }, legacyClaims)}`]))
        .name,
    ).toBe("system:serviceaccount:team-a:builder");
  });

  it("refuses bad credentials with 401 even when anonymous requests are allowed", async () => {
    const authn = new Authenticator({ tokens, serviceAccounts });
    expect(await refusal(authn.authenticate(["Bearer wrong"]))).toBe(
      "the bearer token matches no user",
    );
    expect(await refusal(authn.authenticate(["Basic YWxpY2U6cHc="]))).toBe(
      'the authorization header is not "Bearer <token>"',
    );
    expect(
      await refusal(
        authn.authenticate([`Bearer ${jwt(other.privateKey, { alg: "RS256" }, legacyClaims)}`]),
      ),
    ).toBe("the JWT signature matches none of the keys");
    expect(await refusal(new Authenticator().authenticate(["Bearer secret-1"]))).toMatch(
      /this API server has no token authenticator \(--token-auth-file, --service-account-key-file\)/,
    );
  });
});
