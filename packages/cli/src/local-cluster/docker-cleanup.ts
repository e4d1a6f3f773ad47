// Removes the containers a local cluster's runtimes made, straight through the Docker Engine
// API on its unix socket: tug-cri-docker labels every container with its instance
// (io.tug.cri.instance, docs/cri-docker.md), and each runtime of a local cluster has its own
// instance, so the label finds exactly this cluster's sandboxes and containers. Then the
// nodes' pod networks (tug-<node>), which Docker removes only once no container uses them.
// https://docs.docker.com/reference/api/engine/version/v1.43/#tag/Container

import { request } from "node:http";

export const DOCKER_SOCKET = "/var/run/docker.sock";
/** tug-cri-docker's instance label (packages/cri-docker/src/container-labels.ts). */
export const INSTANCE_LABEL = "io.tug.cri.instance";
/** A force-remove of a running container stops it first; Docker's own default stop is 10 s. */
const DOCKER_REQUEST_TIMEOUT_MS = 30_000;

function dockerRequest(
  method: string,
  path: string,
  socketPath: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, timeout: DOCKER_REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`Docker did not answer ${method} ${path}`)));
    req.on("error", reject);
    req.end();
  });
}

/** The ids of every container, running or not, labelled with one of `instances`. */
export async function listInstanceContainers(
  instances: readonly string[],
  socketPath: string = DOCKER_SOCKET,
): Promise<string[]> {
  const ids: string[] = [];
  for (const instance of instances) {
    const filters = encodeURIComponent(
      JSON.stringify({ label: [`${INSTANCE_LABEL}=${instance}`] }),
    );
    const { status, body } = await dockerRequest(
      "GET",
      `/containers/json?all=1&filters=${filters}`,
      socketPath,
    );
    if (status !== 200) throw new Error(`Docker answered ${status} listing containers: ${body}`);
    for (const c of JSON.parse(body) as { Id: string }[]) ids.push(c.Id);
  }
  return ids;
}

/** Force-removes the containers of `instances` (with their anonymous volumes); returns how many. */
export async function removeInstanceContainers(
  instances: readonly string[],
  socketPath: string = DOCKER_SOCKET,
): Promise<number> {
  const ids = await listInstanceContainers(instances, socketPath);
  for (const id of ids) {
    const { status, body } = await dockerRequest(
      "DELETE",
      `/containers/${id}?force=1&v=1`,
      socketPath,
    );
    if (status !== 204 && status !== 404) {
      throw new Error(`Docker answered ${status} removing container ${id.slice(0, 12)}: ${body}`);
    }
  }
  return ids.length;
}

/** Removes the Docker networks named `names`; a network that does not exist is fine. */
export async function removeNetworks(
  names: readonly string[],
  socketPath: string = DOCKER_SOCKET,
): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    const { status, body } = await dockerRequest(
      "DELETE",
      `/networks/${encodeURIComponent(name)}`,
      socketPath,
    );
    if (status === 204) removed.push(name);
    else if (status !== 404) {
      throw new Error(`Docker answered ${status} removing network ${name}: ${body}`);
    }
  }
  return removed;
}
