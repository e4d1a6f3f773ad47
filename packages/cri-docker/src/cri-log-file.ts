// A container log file in the CRI format, the one the kubelet and `kubectl logs` read
// (kubernetes/design-proposals kubelet-cri-logging.md; containerd's cri logger):
//
//   2016-10-06T00:17:09.669794202Z stdout F The content of the log entry 1
//   2016-10-06T00:17:09.669794202Z stdout P First line of log entry 2
//   2016-10-06T00:17:09.669794202Z stdout F Second line of the log entry 2
//
// One entry per line: an RFC 3339 timestamp with nanoseconds, the stream, the tag (F: the
// entry ends a line, P: a partial line continued by the next entry of the same stream) and
// the content without its newline.

import { closeSync, mkdirSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export type LogStream = "stdout" | "stderr";
export type LogTag = "F" | "P";

/** A CRI log file opened for appending; `reopen` starts a new file after rotation. */
export class CriLogFile {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = CriLogFile.open(path);
  }

  private static open(path: string): number {
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, "a", 0o640);
  }

  /** Appends one entry. `time` is RFC 3339 with nanoseconds; `content` holds no newline. */
  write(time: string, stream: LogStream, tag: LogTag, content: Buffer): void {
    if (this.fd === undefined) return;
    const line = Buffer.concat([Buffer.from(`${time} ${stream} ${tag} `), content, NEWLINE]);
    writeSync(this.fd, line);
  }

  /** Closes the file and opens `path` again (a new file if the old one was renamed away). */
  reopen(): void {
    this.close();
    this.fd = CriLogFile.open(this.path);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

const NEWLINE = Buffer.from("\n");

/** Formats a Date as RFC 3339 with nine fraction digits, as CRI log timestamps are written. */
export function criTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/**
 * The timestamp of the last entry of a CRI log file, or undefined when the file is missing or
 * empty: where a runtime restarted mid-copy resumes. Reads only the file's tail.
 */
export function lastLogTimestamp(path: string): string | undefined {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size === 0) return undefined;
  const tailBytes = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(tailBytes);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, tailBytes, size - tailBytes);
  } finally {
    closeSync(fd);
  }
  const lines = buf
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "");
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  const space = last.indexOf(" ");
  return space > 0 ? last.slice(0, space) : undefined;
}
