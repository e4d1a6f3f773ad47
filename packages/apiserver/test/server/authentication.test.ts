// Authentication on a real API server: bearer tokens from a token file and service account
// tokens are accepted, bad credentials get 401 Unauthorized on unary calls and watches (never
// served as anonymous), requests without credentials are anonymous unless --anonymous-auth is
// off, and a legacy token stops working once its Secret is deleted (--service-account-lookup).

import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { NamespaceSchema, SecretSchema, ServiceAccountSchema } from "@tug/api";
import { ApiClient } from "@tug/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthenticationConfig, LEGACY_ISSUER, parseTokenFile } from "../../src/authn/index.js";
import { failure } from "../support/api-failure.js";
import { startTugStore } from "../support/stores.js";
import { type Harness, startHarness } from "./harness.js";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });

function legacyToken(
  key: KeyObject,
  namespace: string,
  account: string,
  uid: string,
  secret: string,
) {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${part({ alg: "RS256" })}.${part({
    iss: LEGACY_ISSUER,
    "kubernetes.io/serviceaccount/namespace": namespace,
    "kubernetes.io/serviceaccount/secret.name": secret,
    "kubernetes.io/serviceaccount/service-account.name": account,
    "kubernetes.io/serviceaccount/service-account.uid": uid,
    sub: `system:serviceaccount:${namespace}:${account}`,
  })}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

const authentication: AuthenticationConfig = {
  tokens: parseTokenFile("secret-1,alice,1001,admins\n"),
  serviceAccountKeys: [keys.publicKey],
  serviceAccountIssuers: [],
  serviceAccountLookup: true,
  anonymous: true,
};

describe("authentication", () => {
  let h: Harness;
  const clients: ApiClient[] = [];
  const client = (address: string, token?: string) => {
    const c = new ApiClient({
      servers: [address],
      requestTimeoutMs: 10_000,
      ...(token ? { token } : {}),
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    h = await startHarness(startTugStore, { authentication });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await h?.stop();
  });

  it("serves a token from the token file, and anonymous requests", async () => {
    const address = h.servers[0]!.address;
    expect((await client(address, "secret-1").get(NamespaceSchema, "default")).metadata?.name).toBe(
      "default",
    );
    expect((await client(address).get(NamespaceSchema, "default")).metadata?.name).toBe("default");
  });

  it("answers a bad token with 401 Unauthorized on unary calls and watches", async () => {
    const bad = client(h.servers[0]!.address, "wrong");
    const e = await failure(bad.get(NamespaceSchema, "default"));
    expect({ reason: e.reason, code: e.code, message: e.message }).toMatchObject({
      reason: "Unauthorized",
      code: 401,
    });
    expect(e.message).toContain("Unauthorized");
    const watch = bad.watch(NamespaceSchema, {});
    const w = await failure(
      (async () => {
        for await (const _ of watch) break;
      })(),
    );
    expect(w.reason).toBe("Unauthorized");
  });

  it("accepts a service account token while its Secret and account exist", async () => {
    const address = h.servers[0]!.address;
    const sa = await h.client.create(
      ServiceAccountSchema,
      create(ServiceAccountSchema, { metadata: { name: "builder", namespace: "default" } }),
    );
    await h.client.create(
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
    const token = legacyToken(
      keys.privateKey,
      "default",
      "builder",
      sa.metadata?.uid ?? "",
      "builder-token",
    );
    const asBuilder = client(address, token);
    expect((await asBuilder.get(NamespaceSchema, "default")).metadata?.name).toBe("default");
    // A token naming another uid (the account was deleted and re-created) is refused.
    const stale = client(
      address,
      legacyToken(keys.privateKey, "default", "builder", "old-uid", "builder-token"),
    );
    expect((await failure(stale.get(NamespaceSchema, "default"))).reason).toBe("Unauthorized");
    await h.client.delete(SecretSchema, "builder-token", { namespace: "default" });
    expect((await failure(asBuilder.get(NamespaceSchema, "default"))).reason).toBe("Unauthorized");
  });

  it("refuses requests without credentials when anonymous requests are off", async () => {
    const { server } = await h.addServer({
      authentication: { ...authentication, anonymous: false },
    });
    expect((await failure(client(server.address).get(NamespaceSchema, "default"))).code).toBe(401);
    expect(
      (await client(server.address, "secret-1").get(NamespaceSchema, "default")).metadata?.name,
    ).toBe("default");
  });

  it("without authenticators, refuses a token it cannot check and serves the rest", async () => {
    const { server } = await h.addServer({ authentication: undefined });
    expect(
      (await failure(client(server.address, "secret-1").get(NamespaceSchema, "default"))).code,
    ).toBe(401);
    expect((await client(server.address).get(NamespaceSchema, "default")).metadata?.name).toBe(
      "default",
    );
  });
});
