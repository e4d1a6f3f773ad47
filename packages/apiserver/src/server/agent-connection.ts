// The API server's side of the agent API (docs/agent.md, "Agent API"): where a pod's agent
// listens, a log stream from GET /containerLogs, and an exec stream from POST /exec upgraded to
// tug-exec.v1. The agent's refusals become Statuses with its message (404 NotFound, 4xx
// BadRequest); an agent that cannot be reached is Kubernetes' "error dialing backend".

import { type ClientRequest, type IncomingMessage, request } from "node:http";
import type { Duplex } from "node:stream";
import type { Node } from "@tug/api";
import { StatusError } from "./status-error.js";

/** The protocol the agent's /exec upgrades to (tug-cri-docker's framing, relayed unchanged). */
export const EXEC_PROTOCOL = "tug-exec.v1";

/** The kubelet's port when a Node does not report one (status.daemonEndpoints). */
const DEFAULT_AGENT_PORT = 10250;

/** How long connecting to an agent may take before the call fails. */
const AGENT_CONNECT_TIMEOUT_MS = 10_000;

export interface AgentEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * Where the agent of `node` listens: its InternalIP (else any address it reports) and
 * status.daemonEndpoints.kubeletEndpoint.port, as kube-apiserver finds the kubelet.
 */
export function agentEndpointOf(node: Node): AgentEndpoint {
  const addresses = node.status?.addresses ?? [];
  const host =
    addresses.find((a) => a.type === "InternalIP")?.address ?? addresses[0]?.address ?? "";
  if (host === "") {
    throw new StatusError(
      "InternalError",
      `Internal error occurred: node "${node.metadata?.name ?? ""}" reports no address (status.addresses): is its agent registered?`,
    );
  }
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.port || DEFAULT_AGENT_PORT;
  return { host, port };
}

function dialError(endpoint: AgentEndpoint, e: unknown): StatusError {
  const message = e instanceof Error ? e.message : String(e);
  return new StatusError(
    "InternalError",
    `error dialing backend: ${endpoint.host}:${endpoint.port}: ${message}`,
    {},
    { cause: e },
  );
}

/** The Status of an agent's error answer: its text body, with the reason its code implies. */
async function refusal(res: IncomingMessage): Promise<StatusError> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const message = Buffer.concat(chunks).toString("utf8").trim() || `HTTP ${res.statusCode}`;
  const code = res.statusCode ?? 500;
  if (code === 404) return new StatusError("NotFound", message);
  if (code >= 400 && code < 500) return StatusError.badRequest(message);
  return new StatusError("InternalError", `Internal error occurred: ${message}`);
}

function agentPath(kind: "containerLogs" | "exec", ns: string, pod: string, c: string): string {
  return `/${kind}/${[ns, pod, c].map(encodeURIComponent).join("/")}`;
}

function failOnTimeout(req: ClientRequest, endpoint: AgentEndpoint, reject: (e: unknown) => void) {
  req.setTimeout(AGENT_CONNECT_TIMEOUT_MS, () => {
    reject(dialError(endpoint, new Error(`no answer within ${AGENT_CONNECT_TIMEOUT_MS} ms`)));
    req.destroy();
  });
}

/**
 * GET /containerLogs/<ns>/<pod>/<container>?<query>: resolves with the response body once the
 * agent answered 200; `signal` aborts the request.
 */
export function openAgentLogs(
  endpoint: AgentEndpoint,
  target: { namespace: string; pod: string; container: string },
  query: URLSearchParams,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: endpoint.host,
      port: endpoint.port,
      method: "GET",
      path: `${agentPath("containerLogs", target.namespace, target.pod, target.container)}?${query}`,
      signal,
    });
    failOnTimeout(req, endpoint, reject);
    req.on("error", (e) => reject(dialError(endpoint, e)));
    req.on("response", (res) => {
      req.setTimeout(0);
      if (res.statusCode === 200) resolve(res);
      else refusal(res).then(reject, reject);
    });
    req.end();
  });
}

/**
 * POST /exec/<ns>/<pod>/<container>?<query> with Upgrade: tug-exec.v1: resolves with the
 * upgraded socket (and any bytes that came with the upgrade).
 */
export function openAgentExec(
  endpoint: AgentEndpoint,
  target: { namespace: string; pod: string; container: string },
  query: URLSearchParams,
): Promise<{ socket: Duplex; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: endpoint.host,
      port: endpoint.port,
      method: "POST",
      path: `${agentPath("exec", target.namespace, target.pod, target.container)}?${query}`,
      headers: { connection: "Upgrade", upgrade: EXEC_PROTOCOL },
    });
    failOnTimeout(req, endpoint, reject);
    req.on("error", (e) => reject(dialError(endpoint, e)));
    req.on("response", (res) => {
      refusal(res).then(reject, reject);
    });
    req.on("upgrade", (_res, socket: Duplex, head: Buffer) => {
      req.setTimeout(0);
      resolve({ socket, head });
    });
    req.end();
  });
}
