// tug-agent's process: parse flags, start the Agent, stop it on SIGTERM/SIGINT (containers,
// routes and service rules stay; a restarted agent adopts them). `--cleanup` instead removes
// the node's networking and exits, as kube-proxy's --cleanup does.

import { CommanderError } from "commander";
import { Agent } from "../agent.js";
import { errorText, jsonLogger } from "../log.js";
import { podNetworkName } from "../network/node-network.js";
import { cleanupNodeNetworking } from "../network/node-networking.js";
import { FlagError, parseAgentFlags } from "./agent-flags.js";

export interface RunOptions {
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  handleSignals?: boolean;
}

/** Runs tug-agent until a signal; resolves with the exit code. */
export async function runTugAgent(options: RunOptions): Promise<number> {
  let settings: ReturnType<typeof parseAgentFlags>;
  try {
    settings = parseAgentFlags(options.argv, options.env ?? process.env);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof FlagError) {
      process.stderr.write(`tug-agent: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = jsonLogger("tug-agent", settings.logLevel);
  if (settings.cleanup) {
    const node = (settings.agent.nodeName ?? "").toLowerCase();
    try {
      await cleanupNodeNetworking({ nodeName: node });
      log.info("removed the node's networking", { node, network: podNetworkName(node) });
      return 0;
    } catch (e) {
      log.error("cleanup failed", { node, error: errorText(e) });
      return 1;
    }
  }
  const agent = new Agent({ ...settings.agent, log });
  try {
    await agent.start();
  } catch (e) {
    log.error("cannot start", { error: errorText(e) });
    await agent.stop();
    return 1;
  }
  const pause = settings.podInfraContainerImage;
  const present = await agent.runtime.image
    .imageStatus({ image: { image: pause } })
    .catch(() => undefined);
  if (present?.image === undefined) {
    log.warn(
      "the sandbox image is not present on this node; build it (scripts/build-images.sh) or pull it",
      {
        image: pause,
      },
    );
  }
  if (!options.handleSignals) return 0;
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  log.info("stopping; containers keep running");
  await agent.stop();
  return 0;
}
