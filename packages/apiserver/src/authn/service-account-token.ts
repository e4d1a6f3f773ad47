// Service account tokens: JWTs signed by the controller manager's
// --service-account-private-key-file (RS256 for RSA keys, ES256 for P-256 keys), verified here
// with the public keys of --service-account-key-file. A token is accepted when its signature
// verifies with one of the keys, its issuer is one of --service-account-issuer or the legacy
// issuer "kubernetes/serviceaccount", it has not expired, and — with lookup (kube-apiserver's
// --service-account-lookup, default true) — its Secret and ServiceAccount still exist.
// https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/

import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { AUTHENTICATED_GROUP, type UserInfo } from "./user-info.js";

/** The issuer of Secret-based (legacy) service account tokens. */
export const LEGACY_ISSUER = "kubernetes/serviceaccount";

const CLAIM_NAMESPACE = "kubernetes.io/serviceaccount/namespace";
const CLAIM_SECRET = "kubernetes.io/serviceaccount/secret.name";
const CLAIM_ACCOUNT = "kubernetes.io/serviceaccount/service-account.name";
const CLAIM_ACCOUNT_UID = "kubernetes.io/serviceaccount/service-account.uid";

/** Why a token was refused (logged by the server; the client only sees "Unauthorized"). */
export class InvalidTokenError extends Error {
  override readonly name = "InvalidTokenError";
}

/** Checks that a legacy token's Secret and account still exist; resolves false if not. */
export type ServiceAccountLookup = (ref: {
  namespace: string;
  account: string;
  accountUid: string;
  secret: string;
}) => Promise<boolean>;

/** The public keys of every PEM block in `pem` (public, or private keys whose public half is used). */
export function publicKeysFromPem(pem: string, file = "key file"): KeyObject[] {
  const blocks = pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
  if (blocks.length === 0) {
    throw new InvalidTokenError(
      `${file}: no PEM block found; give the public (or private) key(s) used to sign service account tokens`,
    );
  }
  return blocks.map((block, i) => {
    try {
      return createPublicKey(block);
    } catch (e) {
      throw new InvalidTokenError(
        `${file}: PEM block ${i + 1} is not an RSA or EC key: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  });
}

function decodePart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw new InvalidTokenError(`the JWT ${what} is not base64url JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidTokenError(`the JWT ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Whether `token` looks like a JWT (three base64url parts), i.e. is worth verifying here. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

export interface ServiceAccountTokenOptions {
  readonly keys: readonly KeyObject[];
  /** Accepted issuers besides the legacy one (--service-account-issuer). */
  readonly issuers?: readonly string[];
  readonly lookup?: ServiceAccountLookup;
  /** Seconds since the epoch; for tests. */
  readonly now?: () => number;
}

/** Verifies service account JWTs. */
export class ServiceAccountTokenAuthenticator {
  private readonly issuers: ReadonlySet<string>;

  constructor(private readonly options: ServiceAccountTokenOptions) {
    this.issuers = new Set([LEGACY_ISSUER, ...(options.issuers ?? [])]);
  }

  /** The account's user, or InvalidTokenError saying why the token is refused. */
  async authenticate(token: string): Promise<UserInfo> {
    const [headerPart = "", payloadPart = "", signaturePart = ""] = token.split(".");
    const header = decodePart(headerPart, "header");
    const claims = decodePart(payloadPart, "payload");
    const alg = header.alg;
    if (alg !== "RS256" && alg !== "ES256") {
      throw new InvalidTokenError(`unsupported JWT algorithm ${JSON.stringify(alg)}`);
    }
    const input = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, "base64url");
    const verified = this.options.keys.some((key) => {
      if (key.asymmetricKeyType !== (alg === "RS256" ? "rsa" : "ec")) return false;
      try {
        return alg === "RS256"
          ? verify("sha256", input, key, signature)
          : verify("sha256", input, { key, dsaEncoding: "ieee-p1363" }, signature);
      } catch {
        return false;
      }
    });
    if (!verified) throw new InvalidTokenError("the JWT signature matches none of the keys");
    const iss = claims.iss;
    if (typeof iss !== "string" || !this.issuers.has(iss)) {
      throw new InvalidTokenError(`the JWT issuer ${JSON.stringify(iss)} is not accepted`);
    }
    const now = this.options.now?.() ?? Math.floor(Date.now() / 1000);
    if (typeof claims.exp === "number" && claims.exp <= now) {
      throw new InvalidTokenError("the token has expired");
    }
    if (typeof claims.nbf === "number" && claims.nbf > now) {
      throw new InvalidTokenError("the token is not valid yet (nbf)");
    }
    const sub = typeof claims.sub === "string" ? claims.sub : "";
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub);
    if (match === null) {
      throw new InvalidTokenError(
        `the JWT subject ${JSON.stringify(sub)} is not a service account`,
      );
    }
    const [, namespace = "", account = ""] = match;
    const accountUid =
      typeof claims[CLAIM_ACCOUNT_UID] === "string" ? claims[CLAIM_ACCOUNT_UID] : "";
    if (iss === LEGACY_ISSUER) {
      if (claims[CLAIM_NAMESPACE] !== namespace || claims[CLAIM_ACCOUNT] !== account) {
        throw new InvalidTokenError(
          "the legacy token's namespace or account claim does not match its subject",
        );
      }
      const secret = typeof claims[CLAIM_SECRET] === "string" ? claims[CLAIM_SECRET] : "";
      const lookup = this.options.lookup;
      if (lookup !== undefined && !(await lookup({ namespace, account, accountUid, secret }))) {
        throw new InvalidTokenError(
          `the token's Secret ${namespace}/${secret} or ServiceAccount ${namespace}/${account} no longer exists`,
        );
      }
    }
    return {
      name: sub,
      uid: accountUid,
      groups: [
        "system:serviceaccounts",
        `system:serviceaccounts:${namespace}`,
        AUTHENTICATED_GROUP,
      ],
    };
  }
}
