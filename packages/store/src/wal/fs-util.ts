// Small filesystem helpers for the durable files: whole writes, directory fsync, and the
// pidfile lock that keeps two processes out of one data directory.

import { readFileSync, writeSync } from "node:fs";
import { type FileHandle, open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "../errors.js";

/** Forces a file's data (and its size) to disk: fdatasync, as etcd uses on Linux. */
export type SyncFile = (fh: FileHandle) => Promise<void>;

export const fdatasync: SyncFile = (fh) => fh.datasync();

/**
 * A SyncFile that runs `block` (a synchronous sync of the file descriptor, e.g. fdatasyncSync)
 * on the event loop's thread, but first lets the loop finish its turn. A sync on the calling
 * thread blocks the loop for the disk's flush, but spares the hand-off to a thread-pool worker
 * and back, which on a busy 2-core VM costs about 0.08 ms of CPU per call (the worker's
 * wake-up often preempts the caller): for a process with nothing it must do while it waits,
 * such as a tug-store member whose appends and replies have left in the turn. Node's HTTP/2
 * hands the frames of a response or message written in this turn to the socket only from a
 * native immediate (Http2Session::MaybeScheduleWrite), at the end of the turn: a thread
 * blocked in fdatasync before then holds back every reply and peer message of that turn by a
 * whole disk flush. A JavaScript immediate runs after the native ones, so those writes leave
 * first.
 */
export function syncAfterTurn(block: (fd: number) => void): SyncFile {
  return async (fh) => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    block(fh.fd);
  };
}

/** Writes all of `buf` at `position`, looping over short writes. */
export async function writeFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += bytesWritten;
  }
}

/**
 * writeFully, synchronously, on the event loop's thread. For the WAL's small appends: copying
 * a few KiB into the page cache takes microseconds, while a write through the thread pool
 * costs a thread hand-off each way (a wake-up and a context switch on a busy machine) per
 * batch. Durability still comes from the fdatasync that follows.
 */
export function writeFullySync(fh: FileHandle, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const bytesWritten = writeSync(fh.fd, buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += bytesWritten;
  }
}

/** Makes a directory's entries (created, renamed, removed files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

// --- the directory lock -----------------------------------------------------------------------

export const LOCK_FILE = "LOCK";

interface LockOwner {
  readonly pid: number;
  /** The process start time from /proc/<pid>/stat, so that a reused pid is not mistaken for it. */
  readonly startTime: string | undefined;
}

/**
 * An exclusive lock on a directory: a pidfile created with O_CREAT|O_EXCL. A lock left behind
 * by a process that died (SIGKILL, power loss) is recognised by its pid no longer running (or
 * running with another start time) and taken over.
 */
export class DirLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {}

  static async acquire(dir: string, what: string): Promise<DirLock> {
    const path = join(dir, LOCK_FILE);
    const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid) };
    const content = `${JSON.stringify(me)}\n`;
    // Two attempts: the second after removing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      let fh: FileHandle;
      try {
        fh = await open(path, "wx");
      } catch (err) {
        if (!isErrno(err, "EEXIST")) throw err;
        const holder = await readOwner(path);
        if (holder !== undefined && isRunning(holder)) {
          const whom = holder.pid === process.pid ? "this process" : `process ${holder.pid}`;
          throw new StoreError(
            "FAILED_PRECONDITION",
            `${what} ${dir} is locked by ${whom} (lock file ${path}): another member is using it. ` +
              "Stop that process first; if it is gone and the lock remains, remove the lock file.",
          );
        }
        await unlinkIfExists(path);
        continue;
      }
      try {
        await fh.writeFile(content);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return new DirLock(path, content);
    }
    throw new StoreError(
      "FAILED_PRECONDITION",
      `${what} ${dir}: could not take the lock ${path}; retry`,
    );
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Only remove the lock if it is still ours.
    const now = await readFile(this.path, "utf8").catch(() => undefined);
    if (now === this.content) await unlinkIfExists(this.path);
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "object" && v !== null && "pid" in v && typeof v.pid === "number") {
      const startTime =
        "startTime" in v && typeof v.startTime === "string" ? v.startTime : undefined;
      return { pid: v.pid, startTime };
    }
  } catch {
    // A lock file cut short by a crash while it was written: nobody holds it.
  }
  return undefined;
}

function isRunning(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if (isErrno(err, "ESRCH")) return false;
    // EPERM: it exists, but belongs to someone else.
  }
  if (owner.startTime === undefined) return true;
  const now = processStartTime(owner.pid);
  return now === undefined || now === owner.startTime;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is parenthesised and may hold spaces: split after it.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}
