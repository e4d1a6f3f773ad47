// Running the host's networking tools (ip, iptables, iptables-restore). One function type so
// that tests can run the same code inside a network namespace (`ip netns exec <ns> ...`) and
// so that errors name the command and carry its stderr.

import { spawn } from "node:child_process";

/** Runs argv with optional stdin; resolves stdout; rejects with HostCommandError on exit ≠ 0. */
export type HostCommand = (argv: readonly string[], stdin?: string) => Promise<string>;

/** A failed host command: its argv, exit code and stderr (stdout when stderr is empty). */
export class HostCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(" ")} exited with ${exitCode}: ${stderr.trim() || "(no output)"}`);
    this.name = "HostCommandError";
  }
}

/** Runs commands on this host, or inside network namespace `netns` when given. */
export function hostCommand(netns?: string): HostCommand {
  return (argv, stdin) =>
    new Promise((resolve, reject) => {
      const full = netns === undefined ? [...argv] : ["ip", "netns", "exec", netns, ...argv];
      const [file, ...args] = full;
      if (file === undefined) {
        reject(new Error("hostCommand: argv is empty; pass the program and its arguments"));
        return;
      }
      const child = spawn(file, args, {
        stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout?.setEncoding("utf8").on("data", (d: string) => {
        out += d;
      });
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        err += d;
      });
      child.on("error", (e) => reject(new HostCommandError(full, null, e.message)));
      child.on("close", (code) => {
        if (code === 0) resolve(out);
        // Some tools (busybox nslookup) report failures on stdout.
        else reject(new HostCommandError(full, code, err.trim() === "" ? out : err));
      });
      if (stdin !== undefined && child.stdin !== null) {
        // A program that exits without reading its input closes the pipe: its exit code and
        // stderr tell what happened, not the EPIPE.
        child.stdin.on("error", () => {});
        child.stdin.end(stdin);
      }
    });
}

/** The iptables tools of the backend `iptables` uses (nf_tables or legacy), as iptables -V says. */
export interface IptablesTools {
  readonly iptables: string;
  readonly restore: string;
  readonly save: string;
}

/** Picks iptables-{nft,legacy}-{restore,save} to match `iptables -V`, so rules land in one backend. */
export async function detectIptables(run: HostCommand): Promise<IptablesTools> {
  const version = await run(["iptables", "-V"]);
  const backend = version.includes("legacy")
    ? "legacy"
    : version.includes("nf_tables")
      ? "nft"
      : "";
  if (backend === "")
    return { iptables: "iptables", restore: "iptables-restore", save: "iptables-save" };
  return {
    iptables: `iptables-${backend}`,
    restore: `iptables-${backend}-restore`,
    save: `iptables-${backend}-save`,
  };
}
