// Writes a set of files into a volume directory so that a container sees either all of the old
// files or all of the new ones, never a mix: the kubelet's AtomicWriter
// (pkg/volume/util/atomic_writer.go). The payload goes into a fresh hidden directory
// "..<timestamp>", the symlink "..data" is swapped to it with one rename, and each top-level
// name the user sees is a symlink through "..data". Old payload directories are removed.

import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

/** One file of a projected volume: its path relative to the volume, content and mode. */
export interface ProjectedFile {
  path: string;
  content: Buffer;
  mode: number;
}

const DATA_LINK = "..data";

/**
 * Makes `dir` hold exactly `files` (atomically, see above). Returns false when the current
 * payload already matches (nothing written). Paths must be relative and free of "..".
 */
export function writeAtomically(dir: string, files: readonly ProjectedFile[]): boolean {
  for (const f of files) {
    if (f.path === "" || f.path.startsWith("/") || f.path.split("/").some((p) => p === "..")) {
      throw new Error(`volume file path "${f.path}" must be relative and must not contain '..'`);
    }
  }
  mkdirSync(dir, { recursive: true });
  if (matches(dir, files)) return false;
  const stamp = `..${new Date().toISOString().replace(/[-:.]/g, "_")}.${process.pid}.${Math.floor(Math.random() * 1e9)}`;
  const payload = join(dir, stamp);
  mkdirSync(payload, { mode: 0o755 });
  for (const f of files) {
    const target = join(payload, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    chmodSync(target, f.mode);
  }
  const tmpLink = join(dir, `..data_tmp`);
  rmSync(tmpLink, { force: true });
  symlinkSync(stamp, tmpLink);
  renameSync(tmpLink, join(dir, DATA_LINK));
  const top = new Set(files.map((f) => f.path.split("/")[0] as string));
  for (const name of top) {
    const link = join(dir, name);
    let existing: string | undefined;
    try {
      existing = readlinkSync(link);
    } catch {
      existing = undefined;
    }
    if (existing !== join(DATA_LINK, name)) {
      rmSync(link, { force: true, recursive: true });
      symlinkSync(join(DATA_LINK, name), link);
    }
  }
  for (const entry of readdirSync(dir)) {
    if (entry === DATA_LINK || entry === stamp) continue;
    if (entry.startsWith("..") || !top.has(entry))
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
  return true;
}

/** True when the payload behind "..data" holds exactly `files` with the same content and modes. */
function matches(dir: string, files: readonly ProjectedFile[]): boolean {
  let payload: string;
  try {
    payload = join(dir, readlinkSync(join(dir, DATA_LINK)));
  } catch {
    return false;
  }
  if (
    listFiles(payload).sort().join("\n") !==
    files
      .map((f) => f.path)
      .sort()
      .join("\n")
  ) {
    return false;
  }
  for (const f of files) {
    const p = join(payload, f.path);
    try {
      if ((statSync(p).mode & 0o7777) !== f.mode) return false;
      if (!readFileSync(p).equals(f.content)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function listFiles(root: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}
