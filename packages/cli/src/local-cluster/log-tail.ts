// The last lines of a component's log, printed when it fails to become healthy.

import { readFile } from "node:fs/promises";

/** The last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  return lines.slice(Math.max(0, lines.length - count));
}

/** The last `count` lines of the file at `path`; none when it cannot be read. */
export async function tailFile(path: string, count: number): Promise<string[]> {
  try {
    return lastLines(await readFile(path, "utf8"), count);
  } catch {
    return [];
  }
}
