// Reading what -f names, as kubectl does: a file, a directory (its .json, .yaml and .yml files,
// in name order; subdirectories with -R), or "-" for standard input. Every document is decoded
// before anything is sent, so a typo in the third object leaves the first two unapplied.
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/

import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { type KindInfo, parseManifests } from "@tug/api";
import { CliError } from "../cli-error.js";
import type { Message } from "../client/cli-client.js";

const MANIFEST_EXTENSIONS = new Set([".json", ".yaml", ".yml"]);

/** One object read from -f, with where it came from for messages. */
export interface InputObject {
  readonly source: string;
  readonly kind: KindInfo;
  readonly object: Message;
}

async function collectFiles(path: string, recursive: boolean, out: string[]): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`the path "${path}" does not exist`);
  }
  if (!info.isDirectory()) {
    out.push(path);
    return;
  }
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      if (recursive) await collectFiles(child, recursive, out);
    } else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      out.push(child);
    }
  }
}

/**
 * Reads and decodes every object -f names. Throws CliError naming the file and the document
 * for the first that does not parse, and when there is nothing at all.
 */
export async function readInputObjects(
  paths: readonly string[],
  recursive: boolean,
  readStdin: () => Promise<string>,
): Promise<InputObject[]> {
  if (paths.length === 0) {
    throw new CliError(
      "must specify -f: the manifests to use, a file, a directory or - for stdin (e.g. `tug apply -f pod.yaml`)",
    );
  }
  const objects: InputObject[] = [];
  for (const path of paths) {
    const files: string[] = [];
    if (path === "-") files.push("-");
    else await collectFiles(path, recursive, files);
    for (const file of files) {
      const source = file === "-" ? "STDIN" : file;
      let text: string;
      try {
        text = file === "-" ? await readStdin() : await readFile(file, "utf8");
      } catch (err) {
        throw new CliError(`cannot read ${source}: ${(err as Error).message}`, { cause: err });
      }
      try {
        for (const m of parseManifests(text)) {
          objects.push({ source, kind: m.kind, object: m.object });
        }
      } catch (err) {
        throw new CliError(`error parsing ${source}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  if (objects.length === 0) {
    throw new CliError(`no objects passed; ${paths.join(", ")} held no manifests`);
  }
  return objects;
}
