// The CliIo of a real terminal: process streams and environment, the wall clock, ApiClient
// connections, the user's editor as a child process, and Ctrl-C ending watches.

import { spawn } from "node:child_process";
import type { CliIo } from "./cli-io.js";
import { connectApiClient } from "./client/api-client-adapter.js";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs `editor` (a command line such as "code --wait", split by the shell as kubectl does) on
 * `file` with the terminal attached.
 */
function runEditor(editor: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", `${editor} "$1"`, "sh", file], { stdio: "inherit" });
    child.on("error", (err) =>
      reject(
        new Error(
          `cannot start the editor "${editor}": ${err.message}; set $KUBE_EDITOR or $EDITOR`,
        ),
      ),
    );
    child.on("exit", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `the editor "${editor}" exited with ${signal === null ? `code ${code}` : `signal ${signal}`}; set $KUBE_EDITOR or $EDITOR to one that works`,
          ),
        );
    });
  });
}

/**
 * How long a command may take to wind down after Ctrl-C (a watch closing its stream) before
 * the process exits anyway, as an interrupted kubectl does.
 */
const INTERRUPT_GRACE_MS = 1000;

/** The process's CliIo. SIGINT ends watches cleanly; whatever is still running then exits. */
export function nodeIo(): CliIo {
  const controller = new AbortController();
  process.once("SIGINT", () => {
    controller.abort();
    setTimeout(() => process.exit(130), INTERRUPT_GRACE_MS).unref();
    process.once("SIGINT", () => process.exit(130));
  });
  return {
    stdout: { write: (text) => process.stdout.write(text) },
    stderr: { write: (text) => process.stderr.write(text) },
    readStdin: () => readAll(process.stdin),
    env: process.env,
    now: () => new Date(),
    connect: connectApiClient,
    runEditor,
    signal: controller.signal,
  };
}
