// The service account tokens controller (Kubernetes' pkg/controller/serviceaccount
// TokensController): a Secret of type kubernetes.io/service-account-token naming an account in
// its kubernetes.io/service-account.name annotation gets the account's long-lived token — a JWT
// signed with --service-account-private-key-file — with the namespace and the cluster CA beside
// it; a token Secret whose account is gone is deleted. As in Kubernetes since 1.24, such Secrets
// are made by whoever wants one, not for every account. Runs only with a signing key.
// https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets
// https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/

import { createHash, createPublicKey, type KeyObject, sign } from "node:crypto";
import { clone } from "@bufbuild/protobuf";
import { type Secret, SecretSchema, type ServiceAccount } from "@tug/api";
import {
  type ApiClient,
  createLister,
  isApiError,
  isDeletedFinalStateUnknown,
  type Lister,
  metaNamespaceKeyFunc,
  RateLimitingQueue,
  type SharedIndexInformer,
} from "@tug/client";
import type { Controller, Syncable } from "../framework/controller.js";

export const SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";
export const SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name";
export const SERVICE_ACCOUNT_UID_ANNOTATION = "kubernetes.io/service-account.uid";
/** The issuer of legacy service account tokens. */
export const LEGACY_TOKEN_ISSUER = "kubernetes/serviceaccount";

export interface TokensControllerOptions {
  readonly api: Pick<ApiClient, "update" | "delete">;
  readonly secrets: SharedIndexInformer<Secret>;
  readonly serviceAccounts: SharedIndexInformer<ServiceAccount>;
  /** --service-account-private-key-file, loaded: an RSA or P-256 EC private key. */
  readonly signingKey: KeyObject;
  /** --root-ca-file's content, put in ca.crt. */
  readonly rootCa?: Uint8Array;
  readonly queue?: RateLimitingQueue;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Kubernetes' key id: the base64url SHA-256 of the public key's DER (PKIX) encoding. */
export function keyId(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  return base64url(createHash("sha256").update(der).digest());
}

/** A signed JWT with `claims`: RS256 for RSA keys, ES256 for P-256 keys. */
export function signToken(key: KeyObject, claims: Readonly<Record<string, string>>): string {
  const type = key.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec") {
    throw new Error(
      `--service-account-private-key-file: a ${type ?? "symmetric"} key cannot sign tokens; give an RSA or P-256 EC private key`,
    );
  }
  const alg = type === "rsa" ? "RS256" : "ES256";
  const input = `${base64url(JSON.stringify({ alg, kid: keyId(key) }))}.${base64url(JSON.stringify(claims))}`;
  const signature =
    type === "rsa"
      ? sign("sha256", Buffer.from(input), key)
      : sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${base64url(signature)}`;
}

export class TokensController implements Controller {
  readonly name = "serviceaccount-token";
  readonly informers: readonly Syncable[];
  readonly queue: RateLimitingQueue;
  private readonly secretLister: Lister<Secret>;
  private readonly accountLister: Lister<ServiceAccount>;

  constructor(private readonly options: TokensControllerOptions) {
    this.queue = options.queue ?? new RateLimitingQueue();
    this.informers = [options.secrets, options.serviceAccounts];
    this.secretLister = createLister(options.secrets.getIndexer());
    this.accountLister = createLister(options.serviceAccounts.getIndexer());
    const enqueueSecret = (s: Secret) => {
      if (s.type === SERVICE_ACCOUNT_TOKEN_TYPE) this.queue.add(metaNamespaceKeyFunc(s));
    };
    options.secrets.addEventHandler({
      onAdd: enqueueSecret,
      onUpdate: (_old, s) => enqueueSecret(s),
    });
    // An account created or deleted: the token Secrets naming it are to be filled or removed.
    const enqueueTokensOf = (sa: ServiceAccount) => {
      for (const s of this.secretLister.namespace(sa.metadata?.namespace ?? "").list()) {
        if (s.metadata?.annotations[SERVICE_ACCOUNT_NAME_ANNOTATION] === sa.metadata?.name) {
          enqueueSecret(s);
        }
      }
    };
    options.serviceAccounts.addEventHandler({
      onAdd: enqueueTokensOf,
      onDelete: (obj) => enqueueTokensOf(isDeletedFinalStateUnknown(obj) ? obj.obj : obj),
    });
  }

  async reconcile(key: string): Promise<void> {
    const secret = this.secretLister.get(key);
    if (secret === undefined || secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE) return;
    const meta = secret.metadata;
    if (meta === undefined || meta.deletionTimestamp !== undefined) return;
    const accountName = meta.annotations[SERVICE_ACCOUNT_NAME_ANNOTATION] ?? "";
    const account = this.accountLister.namespace(meta.namespace).get(accountName);
    const boundUid = meta.annotations[SERVICE_ACCOUNT_UID_ANNOTATION];
    if (account === undefined || (boundUid !== undefined && boundUid !== account.metadata?.uid)) {
      // The account is gone (or was replaced): its token must not outlive it.
      try {
        await this.options.api.delete(SecretSchema, meta.name, {
          namespace: meta.namespace,
          preconditions: { uid: meta.uid },
        });
      } catch (error) {
        if (!isApiError(error, "NotFound") && !isApiError(error, "Conflict")) throw error;
      }
      return;
    }
    const uid = account.metadata?.uid ?? "";
    const ca = this.options.rootCa;
    const complete =
      boundUid === uid &&
      secret.data.token !== undefined &&
      secret.data.namespace !== undefined &&
      (ca === undefined || secret.data["ca.crt"] !== undefined);
    if (complete) return;
    const updated = clone(SecretSchema, secret);
    if (updated.metadata === undefined) return;
    updated.metadata.annotations[SERVICE_ACCOUNT_UID_ANNOTATION] = uid;
    const token = signToken(this.options.signingKey, {
      iss: LEGACY_TOKEN_ISSUER,
      "kubernetes.io/serviceaccount/namespace": meta.namespace,
      "kubernetes.io/serviceaccount/secret.name": meta.name,
      "kubernetes.io/serviceaccount/service-account.name": accountName,
      "kubernetes.io/serviceaccount/service-account.uid": uid,
      sub: `system:serviceaccount:${meta.namespace}:${accountName}`,
    });
    updated.data.token = new TextEncoder().encode(token);
    updated.data.namespace = new TextEncoder().encode(meta.namespace);
    if (ca !== undefined) updated.data["ca.crt"] = ca;
    try {
      await this.options.api.update(SecretSchema, updated);
    } catch (error) {
      if (!isApiError(error, "NotFound")) throw error;
    }
  }
}
