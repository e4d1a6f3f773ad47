// Parses the --docker-endpoint flag (Docker's own -H syntax) into dockerode options.

import Docker from "dockerode";

/** The engine's default endpoint. */
export const DEFAULT_DOCKER_ENDPOINT = "unix:///var/run/docker.sock";

/** A dockerode client for "unix:///path", "tcp://host:port" or "http://host:port". */
export function dockerClient(endpoint: string = DEFAULT_DOCKER_ENDPOINT): Docker {
  if (endpoint.startsWith("unix://"))
    return new Docker({ socketPath: endpoint.slice("unix://".length) });
  const m = /^(tcp|http|https):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(endpoint);
  if (m === null) {
    throw new Error(
      `docker endpoint "${endpoint}" is not understood; use unix:///var/run/docker.sock or tcp://host:port`,
    );
  }
  const protocol = m[1] === "https" ? "https" : "http";
  return new Docker({ host: m[2], port: Number(m[3]), protocol });
}
