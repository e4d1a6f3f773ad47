// Runs one probe attempt, the kubelet's prober: exec through CRI ExecSync (exit 0 is success),
// httpGet from the agent to the pod IP (a status in [200, 400) is success), tcpSocket (the
// connection opens). Each attempt is bounded by timeoutSeconds.
// https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Value } from "@bufbuild/protobuf/wkt";
import {
  type Container,
  type ExecAction,
  type HTTPGetAction,
  intOrString,
  type TCPSocketAction,
} from "@tug/api";
import type { CriClient } from "@tug/cri-docker";

/** The outcome of one attempt, with the text the kubelet puts into the Unhealthy event. */
export interface ProbeOutcome {
  success: boolean;
  message: string;
}

/** Anything that has one of the three handlers (probes and lifecycle hooks). */
export interface ProbeHandler {
  exec?: ExecAction | undefined;
  httpGet?: HTTPGetAction | undefined;
  tcpSocket?: TCPSocketAction | undefined;
}

/** Where to run a handler. */
export interface ProbeTarget {
  runtime: CriClient;
  containerId: string;
  container: Container;
  podIp: string;
}

/** A port number, or a named port of the container. */
export function resolvePort(port: Value | undefined, container: Container): number {
  const v = intOrString(port);
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const named = container.ports.find((p) => p.name === v);
    if (named !== undefined) return named.containerPort;
    const n = Number.parseInt(v, 10);
    if (Number.isFinite(n)) return n;
    throw new Error(`port "${v}" names no port of container ${container.name}`);
  }
  throw new Error(`probe port of container ${container.name} is not set`);
}

/** Runs `handler` once against `target`, failing after `timeoutSeconds`. */
export async function runHandler(
  handler: ProbeHandler,
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, timeoutSeconds) * 1000;
  try {
    if (handler.exec !== undefined) {
      const res = await target.runtime.runtime.execSync(
        {
          containerId: target.containerId,
          cmd: handler.exec.command,
          timeout: BigInt(Math.max(1, timeoutSeconds)),
        },
        { timeoutMs: timeoutMs + 5_000 },
      );
      const output = Buffer.concat([Buffer.from(res.stdout), Buffer.from(res.stderr)]).toString(
        "utf8",
      );
      return res.exitCode === 0
        ? { success: true, message: output }
        : { success: false, message: output || `command exited with ${res.exitCode}` };
    }
    if (handler.httpGet !== undefined) {
      return await httpGet(handler.httpGet, target, timeoutMs);
    }
    if (handler.tcpSocket !== undefined) {
      const host = handler.tcpSocket.host || target.podIp;
      const port = resolvePort(handler.tcpSocket.port, target.container);
      return await tcpConnect(host, port, timeoutMs);
    }
    return { success: false, message: "the probe has no exec, httpGet or tcpSocket handler" };
  } catch (e) {
    return { success: false, message: e instanceof Error ? e.message : String(e) };
  }
}

function httpGet(
  action: HTTPGetAction,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const host = action.host || target.podIp;
  const port = resolvePort(action.port, target.container);
  const https = action.scheme.toUpperCase() === "HTTPS";
  const path =
    action.path === "" ? "/" : action.path.startsWith("/") ? action.path : `/${action.path}`;
  const headers: Record<string, string> = { "user-agent": "kube-probe/tug", accept: "*/*" };
  for (const h of action.httpHeaders) headers[h.name.toLowerCase()] = h.value;
  const url = `${https ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(
          code >= 200 && code < 400
            ? { success: true, message: `HTTP probe succeeded with statuscode: ${code}` }
            : { success: false, message: `HTTP probe failed with statuscode: ${code}` },
        );
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve({
        success: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    });
    req.on("error", (e) => resolve({ success: false, message: `Get "${url}": ${e.message}` }));
    req.end();
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ success: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ success: true, message: "" });
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      resolve({ success: false, message: `dial tcp ${host}:${port}: ${e.message}` });
    });
  });
}
