// The tokens controller against a real tug-apiserver: a service-account-token Secret gets a
// token signed with the configured key (verifiable with its public half), the namespace and the
// CA; the Secret goes when its account does.

import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { SecretSchema, ServiceAccountSchema } from "@tug/api";
import { apiListerWatcher, isApiError } from "@tug/client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { signToken, TokensController } from "../../src/serviceaccount/tokens-controller.js";
import { type RunningControllers, runControllers } from "../nodelifecycle/run-controllers.js";
import { type Cluster, eventually, startCluster } from "../support/cluster.js";

let cluster: Cluster;
let controllers: RunningControllers | undefined;

beforeEach(async () => {
  cluster = await startCluster();
});

afterEach(async () => {
  await controllers?.stop();
  await cluster?.stop();
});

function decode(token: string) {
  const [header, payload, signature] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header ?? "", "base64url").toString()),
    claims: JSON.parse(Buffer.from(payload ?? "", "base64url").toString()),
    input: `${header}.${payload}`,
    signature: Buffer.from(signature ?? "", "base64url"),
  };
}

it("signs tokens with ES256 for P-256 keys and refuses other key types", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwt = decode(signToken(privateKey, { sub: "x" }));
  expect(jwt.header.alg).toBe("ES256");
  expect(
    verify(
      "sha256",
      Buffer.from(jwt.input),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      jwt.signature,
    ),
  ).toBe(true);
  const { privateKey: ed } = generateKeyPairSync("ed25519");
  expect(() => signToken(ed, {})).toThrow(/give an RSA or P-256 EC private key/);
});

it("fills token Secrets of existing accounts and deletes those of deleted accounts", async () => {
  const { client } = cluster;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ca = new TextEncoder().encode("-----BEGIN CERTIFICATE-----\n...\n");
  controllers = await runControllers(cluster.address, ({ api, factory }) => [
    new TokensController({
      api,
      signingKey: privateKey,
      rootCa: ca,
      secrets: factory.informerFor({
        key: "v1/secrets",
        newListerWatcher: () => apiListerWatcher(api, SecretSchema),
      }),
      serviceAccounts: factory.informerFor({
        key: "v1/serviceaccounts",
        newListerWatcher: () => apiListerWatcher(api, ServiceAccountSchema),
      }),
    }),
  ]);
  const account = await client.create(
    ServiceAccountSchema,
    create(ServiceAccountSchema, { metadata: { name: "builder", namespace: "default" } }),
  );
  await client.create(
    SecretSchema,
    create(SecretSchema, {
      metadata: {
        name: "builder-token",
        namespace: "default",
        annotations: { "kubernetes.io/service-account.name": "builder" },
      },
      type: "kubernetes.io/service-account-token",
    }),
  );
  let token = "";
  await eventually("the token written", async () => {
    const s = await client.get(SecretSchema, "builder-token", { namespace: "default" });
    token = new TextDecoder().decode(s.data.token ?? new Uint8Array());
    return token !== "";
  });
  const secret = await client.get(SecretSchema, "builder-token", { namespace: "default" });
  expect(new TextDecoder().decode(secret.data.namespace)).toBe("default");
  expect(new TextDecoder().decode(secret.data["ca.crt"])).toBe(new TextDecoder().decode(ca));
  expect(secret.metadata?.annotations["kubernetes.io/service-account.uid"]).toBe(
    account.metadata?.uid,
  );
  const jwt = decode(token);
  expect(jwt.header.alg).toBe("RS256");
  expect(jwt.claims).toEqual({
    iss: "kubernetes/serviceaccount",
    "kubernetes.io/serviceaccount/namespace": "default",
    "kubernetes.io/serviceaccount/secret.name": "builder-token",
    "kubernetes.io/serviceaccount/service-account.name": "builder",
    "kubernetes.io/serviceaccount/service-account.uid": account.metadata?.uid,
    sub: "system:serviceaccount:default:builder",
  });
  expect(verify("sha256", Buffer.from(jwt.input), createPublicKey(privateKey), jwt.signature)).toBe(
    true,
  );

  await client.delete(ServiceAccountSchema, "builder", { namespace: "default" });
  await eventually("the token Secret deleted with its account", async () => {
    try {
      await client.get(SecretSchema, "builder-token", { namespace: "default" });
      return false;
    } catch (error) {
      if (isApiError(error, "NotFound")) return true;
      throw error;
    }
  });
  expect(controllers.errors).toEqual([]);
}, 60_000);
