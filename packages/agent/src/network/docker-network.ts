// Creating (or adopting) and removing a node's pod bridge network through the Docker Engine
// API (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Network) over its unix
// socket, with plain HTTP: the agent has no Docker client library of its own. The CRI runtime
// then attaches sandboxes to this network by name.

import { request } from "node:http";
import type { dockerNetworkConfig } from "./node-network.js";

/** Docker's default engine socket. */
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

export type DockerNetworkConfig = ReturnType<typeof dockerNetworkConfig>;

interface EngineReply {
  status: number;
  body: string;
}

function engine(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<EngineReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload === undefined ? {} : { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", (e) =>
      reject(new Error(`Docker engine at ${socketPath}: ${method} ${path}: ${e.message}`)),
    );
    req.end(payload);
  });
}

function engineMessage(reply: EngineReply): string {
  try {
    const parsed = JSON.parse(reply.body) as { message?: string };
    return parsed.message ?? reply.body;
  } catch {
    return reply.body;
  }
}

/** The subnet of an existing network, or undefined when it does not exist. */
async function inspectSubnet(socketPath: string, name: string): Promise<string[] | undefined> {
  const reply = await engine(socketPath, "GET", `/networks/${encodeURIComponent(name)}`);
  if (reply.status === 404) return undefined;
  if (reply.status !== 200) {
    throw new Error(`inspect Docker network ${name}: ${reply.status} ${engineMessage(reply)}`);
  }
  const info = JSON.parse(reply.body) as { IPAM?: { Config?: { Subnet?: string }[] } };
  return (info.IPAM?.Config ?? []).map((c) => c.Subnet ?? "");
}

/**
 * Creates the network, or adopts an existing one of the same name and subnet. A network of
 * that name on another subnet is an error that says how to fix it.
 */
export async function ensureDockerNetwork(
  config: DockerNetworkConfig,
  socketPath = DEFAULT_DOCKER_SOCKET,
): Promise<void> {
  const want = config.IPAM.Config[0]?.Subnet ?? "";
  const have = await inspectSubnet(socketPath, config.Name);
  if (have !== undefined) {
    if (have.includes(want)) return;
    throw new Error(
      `Docker network ${config.Name} exists with subnet ${have.join(",") || "(none)"}, not the node's podCIDR ${want}; remove it (docker network rm ${config.Name}) once no container uses it`,
    );
  }
  const reply = await engine(socketPath, "POST", "/networks/create", {
    ...config,
    CheckDuplicate: true,
  });
  if (reply.status === 201) return;
  // Another agent instance may have created it in between: adopt it when it matches.
  if (reply.status === 409 && (await inspectSubnet(socketPath, config.Name))?.includes(want))
    return;
  throw new Error(`create Docker network ${config.Name}: ${reply.status} ${engineMessage(reply)}`);
}

/** Removes the network; a network that does not exist is fine. */
export async function removeDockerNetwork(
  name: string,
  socketPath = DEFAULT_DOCKER_SOCKET,
): Promise<void> {
  const reply = await engine(socketPath, "DELETE", `/networks/${encodeURIComponent(name)}`);
  if (reply.status === 204 || reply.status === 404) return;
  throw new Error(`remove Docker network ${name}: ${reply.status} ${engineMessage(reply)}`);
}
