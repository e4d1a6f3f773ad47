// tug logs: kubectl logs through the API server (pods/log → the agent of the pod's node).
// POD or pod/POD; -c picks the container (the pod's only one by default; with several the
// server answers kubectl's "a container name must be specified ... choose one of: [a b]").
// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_logs/

import { CliError } from "../cli-error.js";
import type { CommandContext } from "../command-context.js";

export interface LogsFlags {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tail?: string;
  since?: string;
}

/** kubectl's --since: a Go duration of whole seconds or more ("10s", "5m", "1h30m"). */
export function parseSinceSeconds(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  const seconds =
    m === null || text === ""
      ? Number.NaN
      : Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (!(seconds > 0)) {
    throw new CliError(
      `invalid argument "${text}" for "--since" flag: use a duration such as 10s, 5m or 1h`,
    );
  }
  return seconds;
}

/** The pod's name from POD or pod/POD (pods/POD, po/POD). */
export function podName(arg: string | undefined, verb: string): string {
  if (arg === undefined || arg === "") {
    throw new CliError(`expected POD or TYPE/NAME; e.g. \`tug ${verb} web-0\``);
  }
  const slash = arg.indexOf("/");
  if (slash < 0) return arg;
  const type = arg.slice(0, slash);
  if (!["pod", "pods", "po"].includes(type)) {
    throw new CliError(`tug ${verb} takes a pod: ${arg} is a ${type}; give POD or pod/POD`);
  }
  return arg.slice(slash + 1);
}

export async function runLogs(
  ctx: CommandContext,
  args: string[],
  flags: LogsFlags,
): Promise<number> {
  const pod = podName(args[0], "logs");
  if (args.length > 2 || (args.length === 2 && flags.container !== undefined)) {
    throw new CliError("expected POD [CONTAINER] or POD -c CONTAINER; see 'tug logs --help'");
  }
  let tailLines: number | undefined;
  if (flags.tail !== undefined && flags.tail !== "-1") {
    tailLines = Number(flags.tail);
    if (!Number.isInteger(tailLines) || tailLines < 0) {
      throw new CliError(
        `invalid argument "${flags.tail}" for "--tail" flag: a number of lines, or -1 for all`,
      );
    }
  }
  const client = await ctx.client();
  if (client.logs === undefined) throw new CliError("this client cannot stream logs");
  const { namespace } = await ctx.connection();
  const decoder = new TextDecoder();
  const stream = client.logs(namespace, pod, {
    container: flags.container ?? args[1] ?? "",
    follow: flags.follow,
    previous: flags.previous,
    timestamps: flags.timestamps,
    ...(tailLines === undefined ? {} : { tailLines }),
    ...(flags.since === undefined ? {} : { sinceSeconds: parseSinceSeconds(flags.since) }),
    signal: ctx.io.signal,
  });
  for await (const chunk of stream) ctx.io.stdout.write(decoder.decode(chunk, { stream: true }));
  const rest = decoder.decode();
  if (rest !== "") ctx.io.stdout.write(rest);
  return 0;
}
