// Copies a container's output from Docker (its json-file log, read through the logs API with
// follow and timestamps) into the CRI log file at the path CRI gave. Runs in the runtime
// process for as long as the container runs; after a runtime restart it resumes after the
// last entry already in the file, so nothing is lost or written twice.

import type Docker from "dockerode";
import { isDockerNotFound } from "./cri-error.js";
import {
  CriLogFile,
  criTimestamp,
  type LogStream,
  type LogTag,
  lastLogTimestamp,
} from "./cri-log-file.js";
import { FrameDecoder, STDERR } from "./docker-stream.js";

/** How long a log follow may lag behind the container's exit before it is cut. */
const FOLLOW_END_GRACE_MS = 1000;

/** One container's copy loop. `done` settles when the container's output ends. */
export class LogCopier {
  readonly done: Promise<void>;
  private readonly file: CriLogFile;
  private stream: NodeJS.ReadableStream | undefined;
  private stopped = false;
  /** Aborts the engine requests that wait on the container, on stop(). */
  private readonly abort = new AbortController();
  /** Per stream, a message without its newline, written as P once the next one arrives. */
  private readonly held = new Map<LogStream, { time: string; content: Buffer }>();

  constructor(
    container: Docker.Container,
    readonly logPath: string,
    tty: boolean,
    onError: (e: unknown) => void,
  ) {
    const resumeAfter = lastLogTimestamp(logPath);
    this.file = new CriLogFile(logPath);
    this.done = this.run(container, tty, resumeAfter).catch((e: unknown) => {
      if (!this.stopped) onError(e);
    });
  }

  private async run(
    container: Docker.Container,
    tty: boolean,
    resumeAfter: string | undefined,
  ): Promise<void> {
    let after = resumeAfter;
    const message = (kind: LogStream, payload: Buffer) => {
      for (const entry of splitMessage(payload, tty)) {
        // Docker's timestamps are fixed-width RFC 3339 in UTC, so string order is time order.
        if (after !== undefined && entry.time <= after) continue;
        after = entry.time;
        this.entry(kind, entry.time, entry.content, entry.complete);
      }
    };
    const consume = (chunkSource: (onChunk: (chunk: Buffer) => void) => Promise<void>) => {
      const decoder = new FrameDecoder((type, payload) =>
        message(type === STDERR ? "stderr" : "stdout", payload),
      );
      let raw = Buffer.alloc(0);
      return chunkSource((chunk) => {
        if (!tty) return decoder.push(chunk);
        // A TTY stream is raw: cut it into lines here.
        raw = Buffer.concat([raw, chunk]);
        const end = raw.lastIndexOf(0x0a);
        if (end < 0) return;
        message("stdout", raw.subarray(0, end + 1));
        raw = raw.subarray(end + 1);
      }).then(() => {
        if (raw.length > 0) message("stdout", raw);
      });
    };
    try {
      const stream = await container.logs({
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: true,
        since: sinceOf(after),
        abortSignal: this.abort.signal,
      });
      this.stream = stream;
      if (this.stopped) {
        destroy(stream);
        return;
      }
      const followed = consume(
        (onChunk) =>
          new Promise<void>((resolve, reject) => {
            stream.on("data", onChunk);
            stream.on("end", resolve);
            stream.on("close", resolve);
            stream.on("error", reject);
          }),
      );
      // Docker's follow can end before the engine has written the container's last messages to
      // its log, or miss the exit and never end (engine races): once the container has stopped,
      // the follow gets FOLLOW_END_GRACE_MS to end by itself, then it is cut, and the log is read
      // once more without follow for whatever the follow missed (entries already copied are
      // recognised by their timestamps).
      const stoppedContainer = container.wait({ abortSignal: this.abort.signal }).then(
        () => true,
        () => false,
      );
      const stopRequested = new Promise<void>((resolve) =>
        this.abort.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      await Promise.race([followed, stoppedContainer, stopRequested]);
      await Promise.race([stoppedContainer, stopRequested]);
      if (!this.stopped) {
        await Promise.race([followed, new Promise((r) => setTimeout(r, FOLLOW_END_GRACE_MS))]);
      }
      destroy(stream);
      if (!this.stopped) {
        let rest: Buffer | undefined;
        try {
          rest = await container.logs({
            follow: false,
            stdout: true,
            stderr: true,
            timestamps: true,
            since: sinceOf(after),
          });
        } catch (e) {
          // Removed meanwhile: there is nothing more to read.
          if (!isDockerNotFound(e)) throw e;
        }
        if (rest !== undefined) {
          const output = rest;
          await consume(async (onChunk) => onChunk(output));
        }
      }
    } finally {
      // Whatever was read is written, also when the engine failed the catch-up read: a
      // held partial line is output the container made, and its end is the end of the output.
      this.flushHeld();
      this.file.close();
    }
  }

  private entry(stream: LogStream, time: string, content: Buffer, complete: boolean): void {
    const held = this.held.get(stream);
    if (held !== undefined) {
      this.held.delete(stream);
      this.write(held.time, stream, "P", held.content);
    }
    if (complete) this.write(time, stream, "F", content);
    else this.held.set(stream, { time, content });
  }

  /** At the end of output a held partial line is the last line: it is written as F. */
  private flushHeld(): void {
    for (const [stream, held] of this.held) this.write(held.time, stream, "F", held.content);
    this.held.clear();
  }

  private write(time: string, stream: LogStream, tag: LogTag, content: Buffer): void {
    this.file.write(time, stream, tag, content);
  }

  /** ReopenContainerLog: continue in a fresh file at the same path. */
  reopen(): void {
    this.file.reopen();
  }

  /** Stops following (the container is being removed); waits for the loop to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.stream !== undefined) destroy(this.stream);
    await this.done;
    this.file.close();
  }
}

/** Docker's logs `since`: whole seconds (entries already copied are skipped by timestamp). */
function sinceOf(time: string | undefined): number {
  return time === undefined ? 0 : Math.floor(Date.parse(time) / 1000);
}

function destroy(stream: NodeJS.ReadableStream): void {
  const s = stream as NodeJS.ReadableStream & { destroy?: () => void };
  s.destroy?.();
}

interface Entry {
  time: string;
  content: Buffer;
  /** True when the message ended with a newline. */
  complete: boolean;
}

/**
 * One Docker log message with timestamps ("<RFC3339Nano> <text>[\n]") as CRI entries. A
 * message normally holds one line; several lines (TTY output) share its timestamp. Only a TTY's
 * line endings (\r\n, the terminal's) lose their \r; without a TTY a line's bytes are the
 * container's own and are kept, \r included, as the kubelet keeps them.
 */
export function splitMessage(payload: Buffer, tty = false): Entry[] {
  const entries: Entry[] = [];
  let time = "";
  let start = 0;
  while (start < payload.length) {
    const nl = payload.indexOf(0x0a, start);
    const end = nl < 0 ? payload.length : nl;
    let line = payload.subarray(start, end);
    const space = line.indexOf(0x20);
    const head = space > 0 ? line.subarray(0, space).toString("latin1") : "";
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(head)) {
      time = head;
      line = line.subarray(space + 1);
    }
    let content = line;
    if (tty && content.length > 0 && content[content.length - 1] === 0x0d) {
      content = content.subarray(0, content.length - 1); // TTY line endings are \r\n
    }
    entries.push({ time: time || criTimestamp(new Date()), content, complete: nl >= 0 });
    start = end + 1;
  }
  return entries;
}
