// ExecSync: runs a command in a running container and returns its output and exit code, with
// CRI's timeout and output cap (k8s.io/cri-api runtime/v1 api.proto, ExecSyncResponse: cap
// each stream at 16 MB, discard the rest, do not fail; CVE-2022-1708).

import { status } from "@grpc/grpc-js";
import type Docker from "dockerode";
import { CriError, toCriError } from "./cri-error.js";
import { FrameDecoder, STDERR } from "./docker-stream.js";

/** CRI's cap on each of stdout and stderr of ExecSync. */
export const EXEC_SYNC_OUTPUT_CAP = 16 * 1024 * 1024;

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** Collects up to EXEC_SYNC_OUTPUT_CAP bytes; the rest is dropped. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    const room = EXEC_SYNC_OUTPUT_CAP - this.size;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.size += part.length;
  }

  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * Runs `cmd` in container `id`. `timeoutSeconds` 0 waits forever; on timeout the command's
 * process is killed and the call fails with DEADLINE_EXCEEDED.
 */
export async function execSync(
  docker: Docker,
  id: string,
  cmd: readonly string[],
  timeoutSeconds: number,
): Promise<ExecSyncResult> {
  if (id === "") throw CriError.invalidArgument("container_id is required; name a container");
  if (cmd.length === 0) throw CriError.invalidArgument("cmd is required; give the command to run");
  let exec: Docker.Exec;
  let stream: NodeJS.ReadWriteStream;
  try {
    exec = await docker.getContainer(id).exec({
      Cmd: [...cmd],
      AttachStdout: true,
      AttachStderr: true,
    });
    stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadWriteStream;
  } catch (e) {
    throw toCriError(e, `exec ${JSON.stringify(cmd)} in container ${id}`);
  }
  const stdout = new CappedBuffer();
  const stderr = new CappedBuffer();
  const decoder = new FrameDecoder((type, payload) =>
    type === STDERR ? stderr.push(payload) : stdout.push(payload),
  );
  let timer: NodeJS.Timeout | undefined;
  const finished = new Promise<"done">((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => decoder.push(chunk));
    stream.on("end", () => resolve("done"));
    stream.on("close", () => resolve("done"));
    stream.on("error", reject);
  });
  const timedOut =
    timeoutSeconds > 0
      ? new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), timeoutSeconds * 1000);
        })
      : new Promise<"timeout">(() => undefined);
  try {
    const outcome = await Promise.race([finished, timedOut]);
    if (outcome === "timeout") {
      await killExec(exec);
      (stream as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.();
      throw new CriError(
        status.DEADLINE_EXCEEDED,
        `command ${JSON.stringify(cmd)} in container ${id} timed out after ${timeoutSeconds}s`,
      );
    }
  } catch (e) {
    throw toCriError(e, `exec ${JSON.stringify(cmd)} in container ${id}`);
  } finally {
    clearTimeout(timer);
  }
  const info = await exec.inspect().catch((e: unknown) => {
    throw toCriError(e, `read the exit code of ${JSON.stringify(cmd)} in container ${id}`);
  });
  return { stdout: stdout.buffer, stderr: stderr.buffer, exitCode: info.ExitCode ?? 0 };
}

/**
 * Docker has no API to stop an exec; its process is killed by host pid (this runtime runs in
 * the host's PID namespace, as root, beside the engine).
 */
async function killExec(exec: Docker.Exec): Promise<void> {
  try {
    const info = await exec.inspect();
    if (info.Running && info.Pid > 0) process.kill(info.Pid, "SIGKILL");
  } catch {
    // Already gone, or not ours to kill: the caller reports the timeout either way.
  }
}
