// The local cluster's service-account signing key pair, as kubeadm keeps it in pki/sa.key and
// pki/sa.pub: the controller manager signs service account tokens with the private key
// (--service-account-private-key-file) and the API server verifies them with the public one
// (--service-account-key-file). Made once per data dir and kept across `tug down` / `tug up`, so
// tokens handed out earlier stay valid; both files are 0600.
// https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/
// https://kubernetes.io/docs/setup/best-practices/certificates/#single-root-ca

import { createPrivateKey, createPublicKey, generateKeyPair } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { CliError } from "../cli-error.js";
import { serviceAccountKeyPaths } from "./cluster-plan.js";

/** RSA 2048, what kubeadm generates for sa.key; the tokens controller signs RS256 with it. */
const RSA_MODULUS_BITS = 2048;
const KEY_FILE_MODE = 0o600;

/**
 * Writes `text` to `path` with mode 0600 through a temporary file, so no reader sees half.
 * On failure the temporary file is removed and a CliError names `path`.
 */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, text, { mode: KEY_FILE_MODE });
    // The mode of writeFile is masked by the umask and ignored for an existing file.
    await chmod(temporary, KEY_FILE_MODE);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new CliError(
      `cannot write ${path}: ${(err as Error).message}; make ${dirname(path)} a writable directory and ${path} a regular file (or absent), then run tug up again`,
    );
  }
}

/**
 * Makes sure `<dataDir>/pki/sa.key` holds a private key, generating one if the file is missing,
 * and (re)writes `sa.pub` from it, so the two always match. Returns whether a key was made.
 * Throws CliError naming the file when it exists but is not a PEM private key.
 */
export async function ensureServiceAccountKey(dataDir: string): Promise<{ created: boolean }> {
  const paths = serviceAccountKeyPaths(dataDir);
  await mkdir(join(dataDir, "pki"), { recursive: true, mode: 0o700 });
  let pem: string | undefined;
  try {
    pem = await readFile(paths.privateKey, "utf8");
    await chmod(paths.privateKey, KEY_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new CliError(
        `cannot read ${paths.privateKey}: ${(err as Error).message}; make it readable by this user, then run tug up again`,
      );
    }
  }
  let created = false;
  if (pem === undefined) {
    // 0.4-0.6 s of CPU on the loaded 2-core machine: off the event loop.
    const { privateKey } = await promisify(generateKeyPair)("rsa", {
      modulusLength: RSA_MODULUS_BITS,
    });
    pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    await writePrivateFile(paths.privateKey, pem);
    created = true;
  }
  let publicPem: string;
  try {
    publicPem = createPublicKey(createPrivateKey(pem))
      .export({ type: "spki", format: "pem" })
      .toString();
  } catch (err) {
    throw new CliError(
      `${paths.privateKey} is not a PEM private key (${(err as Error).message}); remove it and run tug up again to make a new key pair (tokens signed with the old key stop working)`,
    );
  }
  await writePrivateFile(paths.publicKey, publicPem);
  return { created };
}
