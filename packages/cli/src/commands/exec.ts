// tug exec: kubectl exec through the API server (pods/exec → the agent of the pod's node).
// `tug exec [-i] [-t] POD [-c C] -- CMD...`: stdout and stderr go to the terminal, -i sends
// stdin (piped input is read whole and then closed; a terminal is streamed), -t puts the
// terminal in raw mode for the command's TTY and restores it on exit, and the remote command's
// exit code becomes tug's ("command terminated with exit code N", as kubectl prints it).
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_exec/

import { CliError } from "../cli-error.js";
import type { PodExec } from "../client/cli-client.js";
import type { CommandContext } from "../command-context.js";
import { podName } from "./logs.js";

export interface ExecFlags {
  container?: string;
  stdin: boolean;
  tty: boolean;
}

/** Streams the process's terminal into the exec, raw when the command has a TTY. */
function attachTerminal(exec: PodExec, tty: boolean): () => void {
  const stdin = process.stdin;
  const raw = tty && typeof stdin.setRawMode === "function";
  if (raw) stdin.setRawMode(true);
  const onData = (chunk: Buffer) => exec.write(chunk);
  const onEnd = () => exec.closeStdin();
  const onResize = () => exec.resize(process.stdout.columns ?? 80, process.stdout.rows ?? 24);
  const restore = () => {
    if (raw) stdin.setRawMode(false);
  };
  stdin.on("data", onData);
  stdin.on("end", onEnd);
  if (tty) {
    onResize();
    process.stdout.on("resize", onResize);
  }
  // Leave the terminal usable even if the process exits without reaching the cleanup.
  process.once("exit", restore);
  return () => {
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    process.stdout.off("resize", onResize);
    process.off("exit", restore);
    restore();
    stdin.pause();
  };
}

export async function runExec(
  ctx: CommandContext,
  args: string[],
  flags: ExecFlags,
): Promise<number> {
  const pod = podName(args[0], "exec");
  const command = args.slice(1);
  if (command.length === 0) {
    throw new CliError(
      "you must specify at least one command for the container; e.g. `tug exec web -- ls /`",
    );
  }
  const interactive = flags.stdin && process.stdin.isTTY === true;
  let tty = flags.tty;
  if (tty && !interactive) {
    // kubectl's warning: a TTY without a terminal behind stdin is dropped.
    ctx.io.stderr.write(
      "Unable to use a TTY - input is not a terminal or the right kind of file\n",
    );
    tty = false;
  }
  const client = await ctx.client();
  if (client.exec === undefined) throw new CliError("this client cannot run exec");
  const { namespace } = await ctx.connection();
  const out = new TextDecoder();
  const err = new TextDecoder();
  const exec = client.exec(namespace, pod, {
    container: flags.container ?? "",
    command,
    stdin: flags.stdin,
    tty,
    onStdout: (data) => ctx.io.stdout.write(out.decode(data, { stream: true })),
    onStderr: (data) => ctx.io.stderr.write(err.decode(data, { stream: true })),
  });
  const onAbort = () => exec.cancel();
  ctx.io.signal.addEventListener("abort", onAbort, { once: true });
  let detach: (() => void) | undefined;
  try {
    if (interactive) detach = attachTerminal(exec, tty);
    else if (flags.stdin) {
      const input = await ctx.io.readStdin();
      exec.write(new TextEncoder().encode(input));
      exec.closeStdin();
    }
    const { exitCode } = await exec.done;
    if (exitCode !== 0) ctx.io.stderr.write(`command terminated with exit code ${exitCode}\n`);
    return exitCode;
  } finally {
    detach?.();
    ctx.io.signal.removeEventListener("abort", onAbort);
  }
}
