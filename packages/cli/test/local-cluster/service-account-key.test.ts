// The local cluster's service-account key pair: made once, 0600, the public half matching the
// private one, kept as it is by the next `tug up`, and a damaged key or an unwritable file
// named with the way out.

import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { CliError } from "../../src/cli-error.js";
import { serviceAccountKeyPaths } from "../../src/local-cluster/cluster-plan.js";
import { ensureServiceAccountKey } from "../../src/local-cluster/service-account-key.js";

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "tug-sa-key-"));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it("makes an RSA key pair once, 0600, and keeps it across calls", async () => {
  const paths = serviceAccountKeyPaths(dataDir);
  expect(paths.privateKey).toBe(join(dataDir, "pki", "sa.key"));
  expect(await ensureServiceAccountKey(dataDir)).toEqual({ created: true });
  const privatePem = await readFile(paths.privateKey, "utf8");
  const publicPem = await readFile(paths.publicKey, "utf8");
  for (const path of [paths.privateKey, paths.publicKey]) {
    expect((await stat(path)).mode & 0o777, path).toBe(0o600);
  }
  const privateKey = createPrivateKey(privatePem);
  expect(privateKey.asymmetricKeyType).toBe("rsa");
  const signature = sign("sha256", Buffer.from("claims"), privateKey);
  expect(verify("sha256", Buffer.from("claims"), createPublicKey(publicPem), signature)).toBe(true);

  // A second tug up keeps the key (tokens already handed out stay valid) and mends sa.pub.
  await writeFile(paths.publicKey, "stale");
  expect(await ensureServiceAccountKey(dataDir)).toEqual({ created: false });
  expect(await readFile(paths.privateKey, "utf8")).toBe(privatePem);
  expect(await readFile(paths.publicKey, "utf8")).toBe(publicPem);
});

it("names a damaged private key and how to replace it", async () => {
  await ensureServiceAccountKey(dataDir);
  await writeFile(serviceAccountKeyPaths(dataDir).privateKey, "not a key");
  const error = await ensureServiceAccountKey(dataDir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as Error).message).toMatch(
    /sa\.key is not a PEM private key .*; remove it and run tug up again/,
  );
});

it("names a key file it cannot write and leaves no temporary file behind", async () => {
  const paths = serviceAccountKeyPaths(dataDir);
  // A directory where sa.pub should be: the rename onto it fails.
  await mkdir(paths.publicKey, { recursive: true });
  const error = await ensureServiceAccountKey(dataDir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as Error).message).toMatch(/^cannot write .*sa\.pub: .*run tug up again$/);
  expect((await readdir(join(dataDir, "pki"))).sort()).toEqual(["sa.key", "sa.pub"]);
});
