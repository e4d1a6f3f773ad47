// Request authentication, kube-apiserver's rules: a request without credentials is anonymous
// (if --anonymous-auth, the default); a request with a bearer token is authenticated by the
// static token file or as a service account — and refused with 401 Unauthorized if no
// authenticator accepts it, even when anonymous requests are allowed: bad credentials are
// never downgraded to anonymous.
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/

import type { KeyObject } from "node:crypto";
import {
  looksLikeJwt,
  type ServiceAccountLookup,
  ServiceAccountTokenAuthenticator,
} from "./service-account-token.js";
import { ANONYMOUS, type UserInfo } from "./user-info.js";

/** The request metadata key carrying the credentials, as HTTP's Authorization header. */
export const AUTHORIZATION_HEADER = "authorization";

export interface AuthenticatorOptions {
  /** token → user, from --token-auth-file. */
  readonly tokens?: ReadonlyMap<string, UserInfo>;
  readonly serviceAccounts?: ServiceAccountTokenAuthenticator;
  /** --anonymous-auth (default true). */
  readonly anonymous?: boolean;
}

/** A refused request: the client sees 401 Unauthorized; `why` is for the server's log. */
export class UnauthorizedError extends Error {
  override readonly name = "UnauthorizedError";
  constructor(readonly why: string) {
    super("Unauthorized");
  }
}

export class Authenticator {
  /** Whether a request without credentials is served (as system:anonymous). */
  readonly anonymous: boolean;

  constructor(private readonly options: AuthenticatorOptions = {}) {
    this.anonymous = options.anonymous ?? true;
  }

  /** Who sent a request whose authorization header values are `headers` (usually 0 or 1). */
  async authenticate(headers: readonly string[]): Promise<UserInfo> {
    const header = headers[0];
    if (header === undefined || header === "") {
      if (this.anonymous) return ANONYMOUS;
      throw new UnauthorizedError(
        "no credentials, and anonymous requests are disabled (--anonymous-auth=false)",
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null)
      throw new UnauthorizedError('the authorization header is not "Bearer <token>"');
    const token = match[1] ?? "";
    const fromFile = this.options.tokens?.get(token);
    if (fromFile !== undefined) return fromFile;
    const accounts = this.options.serviceAccounts;
    if (accounts !== undefined && looksLikeJwt(token)) {
      try {
        return await accounts.authenticate(token);
      } catch (e) {
        throw new UnauthorizedError(e instanceof Error ? e.message : String(e));
      }
    }
    if (this.options.tokens === undefined && accounts === undefined) {
      throw new UnauthorizedError(
        "a bearer token was sent, but this API server has no token authenticator (--token-auth-file, --service-account-key-file)",
      );
    }
    throw new UnauthorizedError("the bearer token matches no user");
  }
}

/** kube-apiserver's authentication flags, with their files read. */
export interface AuthenticationConfig {
  /** token → user, from --token-auth-file. */
  readonly tokens?: ReadonlyMap<string, UserInfo>;
  /** From --service-account-key-file; empty: service account tokens are not accepted. */
  readonly serviceAccountKeys: readonly KeyObject[];
  /** --service-account-issuer, besides the legacy issuer. */
  readonly serviceAccountIssuers: readonly string[];
  /** --service-account-lookup. */
  readonly serviceAccountLookup: boolean;
  /** --anonymous-auth. */
  readonly anonymous: boolean;
}

/** The Authenticator of `config`; `lookup` checks legacy tokens' objects when lookup is on. */
export function buildAuthenticator(
  config: AuthenticationConfig,
  lookup?: ServiceAccountLookup,
): Authenticator {
  const serviceAccounts =
    config.serviceAccountKeys.length === 0
      ? undefined
      : new ServiceAccountTokenAuthenticator({
          keys: config.serviceAccountKeys,
          issuers: config.serviceAccountIssuers,
          ...(config.serviceAccountLookup && lookup !== undefined ? { lookup } : {}),
        });
  return new Authenticator({
    ...(config.tokens === undefined ? {} : { tokens: config.tokens }),
    ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
    anonymous: config.anonymous,
  });
}
