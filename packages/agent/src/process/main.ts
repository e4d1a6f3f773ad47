// tug-agent's process: read its settings (@tug/daemon), start the Agent, stop it on
// SIGTERM/SIGINT (containers, routes and service rules stay; a restarted agent adopts them).
// `--cleanup` instead removes the node's networking and exits, as kube-proxy's --cleanup does.

import { packageVersion, settingsOrExit } from "@tug/daemon";
import { Agent } from "../agent.js";
import { errorText, jsonLogger } from "../log.js";
import { podNetworkName } from "../network/node-network.js";
import { cleanupNodeNetworking } from "../network/node-networking.js";
import { parseAgentFlags } from "./agent-flags.js";

export interface RunOptions {
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  handleSignals?: boolean;
}

/** Runs tug-agent until a signal; resolves with the exit code. */
export async function runTugAgent(options: RunOptions): Promise<number> {
  const started = settingsOrExit("tug-agent", () =>
    parseAgentFlags(options.argv, {
      env: options.env ?? process.env,
      version: packageVersion(import.meta.url, "@tug/agent"),
    }),
  );
  if ("exitCode" in started) return started.exitCode;
  const settings = started.settings;
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
  // Listen for SIGTERM/SIGINT before starting, so that one sent as soon as the agent logs that
  // it started (or while it starts) stops it gracefully instead of killing the process.
  const signalled =
    options.handleSignals === true
      ? new Promise<void>((resolve) => {
          process.once("SIGTERM", () => resolve());
          process.once("SIGINT", () => resolve());
        })
      : undefined;
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
  if (signalled === undefined) return 0;
  await signalled;
  log.info("stopping; containers keep running");
  await agent.stop();
  return 0;
}
