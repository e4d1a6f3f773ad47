// Logs and Exec: kube-apiserver's pods/log and pods/exec subresources
// (pkg/registry/core/pod/strategy.go LogLocation, ExecLocation), proxied to the agent of the
// pod's node. The API server checks what it can answer itself, with Kubernetes' messages: the
// pod exists, the container is one of the pod's (or is implied by a pod with one container),
// the pod is on a node; the agent answers the rest (container not started, no previous run).

import { create } from "@bufbuild/protobuf";
import type { Node, Pod, Status } from "@tug/api";
import { StatusSchema } from "@tug/api";
import type { apiv1 } from "@tug/client";
import {
  type AgentEndpoint,
  agentEndpointOf,
  openAgentExec,
  openAgentLogs,
} from "./agent-connection.js";
import { StatusError } from "./status-error.js";

/** How the streams find pods and nodes (the API server's own storage). */
export interface PodStreamLookups {
  pod(namespace: string, name: string): Promise<Pod>;
  node(name: string): Promise<Node>;
}

/** tug-exec.v1 frame header: [stream, 0, 0, 0, payload size uint32 big-endian]. */
const FRAME_HEADER_BYTES = 8;
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const EXIT = 3;

/** Every container name of the pod: init, then app (podutil.VisitContainers' order). */
function containerNames(pod: Pod): string[] {
  const spec = pod.spec;
  if (spec === undefined) return [];
  return [...spec.initContainers.map((c) => c.name), ...spec.containers.map((c) => c.name)];
}

/**
 * Kubernetes' validateContainer: the named container must be the pod's; an empty name is the
 * only container of a one-container pod.
 */
export function resolveContainer(pod: Pod, container: string): string {
  const name = pod.metadata?.name ?? "";
  if (container !== "") {
    if (!containerNames(pod).includes(container)) {
      throw StatusError.badRequest(`container ${container} is not valid for pod ${name}`);
    }
    return container;
  }
  const app = pod.spec?.containers ?? [];
  if (app.length === 1) return (app[0] as { name: string }).name;
  if (app.length === 0) {
    throw StatusError.badRequest(`a container name must be specified for pod ${name}`);
  }
  throw StatusError.badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${containerNames(pod).join(" ")}]`,
  );
}

async function locate(
  lookups: PodStreamLookups,
  namespace: string,
  name: string,
  container: string,
  unbound: (container: string) => StatusError,
): Promise<{ endpoint: AgentEndpoint; container: string }> {
  const pod = await lookups.pod(namespace, name);
  const resolved = resolveContainer(pod, container);
  const nodeName = pod.spec?.nodeName ?? "";
  if (nodeName === "") throw unbound(resolved);
  return { endpoint: agentEndpointOf(await lookups.node(nodeName)), container: resolved };
}

/**
 * Streams a container's log to `send` until the agent ends it (or `limitBytes` is reached, or
 * `signal` aborts). `send` may return a promise to hold the stream while the client is slow.
 */
export async function streamLogs(
  lookups: PodStreamLookups,
  req: apiv1.LogsRequest,
  send: (data: Uint8Array) => void | Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const { endpoint, container } = await locate(
    lookups,
    req.namespace,
    req.name,
    req.container,
    (c) =>
      StatusError.badRequest(
        `container "${c}" in pod "${req.name}" is waiting to start: ContainerCreating`,
      ),
  );
  const query = new URLSearchParams();
  if (req.follow) query.set("follow", "true");
  if (req.previous) query.set("previous", "true");
  if (req.timestamps) query.set("timestamps", "true");
  if (req.tailLines !== undefined) {
    if (req.tailLines < 0) throw StatusError.badRequest("tailLines: Invalid value: must be >= 0");
    query.set("tailLines", String(req.tailLines));
  }
  if (req.sinceSeconds !== undefined) {
    if (req.sinceSeconds < 1) {
      throw StatusError.badRequest("sinceSeconds: Invalid value: must be greater than 0");
    }
    query.set("sinceSeconds", String(req.sinceSeconds));
  }
  let left = req.limitBytes === undefined ? Number.POSITIVE_INFINITY : Number(req.limitBytes);
  if (left < 1) throw StatusError.badRequest("limitBytes: Invalid value: must be greater than 0");
  const body = await openAgentLogs(
    endpoint,
    { namespace: req.namespace, pod: req.name, container },
    query,
    signal,
  );
  try {
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      const part = bytes.length > left ? bytes.subarray(0, left) : bytes;
      left -= part.length;
      await send(part);
      if (left <= 0) break;
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    body.destroy();
  }
}

/**
 * Kubernetes' exec Status (k8s.io/client-go remotecommand, kubelet's exec error handling):
 * Success for exit code 0; else Failure, reason NonZeroExitCode, the exit code as the cause of
 * type ExitCode; a command that could not run at all is an InternalError.
 */
export function execStatus(command: readonly string[], exitCode: number, error?: string): Status {
  if (error !== undefined && error !== "") {
    return create(StatusSchema, {
      apiVersion: "v1",
      kind: "Status",
      status: "Failure",
      reason: "InternalError",
      code: 500,
      message: `Internal error occurred: error executing command in container: ${error}`,
      details: {
        causes: exitCode === 0 ? [] : [{ reason: "ExitCode", message: String(exitCode) }],
      },
    });
  }
  if (exitCode === 0) {
    return create(StatusSchema, { apiVersion: "v1", kind: "Status", status: "Success" });
  }
  return create(StatusSchema, {
    apiVersion: "v1",
    kind: "Status",
    status: "Failure",
    reason: "NonZeroExitCode",
    code: 500,
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${exitCode}`,
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  });
}

function frame(stream: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
  out[0] = stream;
  out.writeUInt32BE(payload.length, 4);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** The two ends of an exec as the gRPC handler sees them. */
export interface ExecCall {
  /** The client's next frame after the first; undefined once it half-closed. Never iterated
   * with for-await: leaving such a loop would destroy the call's stream. */
  nextFrame(): Promise<apiv1.ExecFrame | undefined>;
  /** Sends a frame to the client. */
  send(frame: Omit<apiv1.ExecFrame, "$typeName">["frame"]): void;
  readonly signal: AbortSignal;
}

/**
 * Runs `start` through the agent and relays: client stdin (and its close) to the command,
 * stdout/stderr back, and resolves with the exit Status once the agent sent the exit frame.
 * Terminal resizes are accepted and dropped: the agent protocol has no resize yet.
 */
export async function runExec(
  lookups: PodStreamLookups,
  start: apiv1.ExecStart,
  call: ExecCall,
): Promise<Status> {
  if (start.command.length === 0) {
    throw StatusError.badRequest("you must specify at least 1 command");
  }
  const { endpoint, container } = await locate(
    lookups,
    start.namespace,
    start.name,
    start.container,
    () => StatusError.badRequest(`pod ${start.name} does not have a host assigned`),
  );
  const query = new URLSearchParams();
  for (const c of start.command) query.append("command", c);
  if (start.stdin) query.set("stdin", "true");
  if (start.tty) query.set("tty", "true");
  const { socket, head } = await openAgentExec(
    endpoint,
    { namespace: start.namespace, pod: start.name, container },
    query,
  );
  const onAbort = () => socket.destroy();
  call.signal.addEventListener("abort", onAbort, { once: true });
  // Client → agent: stdin until it closes (or the call ends).
  const pump = (async () => {
    if (!start.stdin) return;
    for (;;) {
      const f = await call.nextFrame();
      if (f === undefined || f.frame.case === "closeStdin") {
        // An empty stdin frame is the agent's end of stdin; a client that half-closes means it too.
        socket.write(frame(STDIN, new Uint8Array(0)));
        return;
      }
      if (f.frame.case === "stdin") socket.write(frame(STDIN, f.frame.value));
    }
  })().catch(() => undefined);
  try {
    return await new Promise<Status>((resolve, reject) => {
      let buffered = head;
      const onData = (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        while (buffered.length >= FRAME_HEADER_BYTES) {
          const size = buffered.readUInt32BE(4);
          if (buffered.length < FRAME_HEADER_BYTES + size) return;
          const stream = buffered[0];
          const payload = buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size);
          buffered = buffered.subarray(FRAME_HEADER_BYTES + size);
          if (stream === STDOUT) call.send({ case: "stdout", value: payload });
          else if (stream === STDERR) call.send({ case: "stderr", value: payload });
          else if (stream === EXIT) {
            const exit = JSON.parse(payload.toString("utf8")) as {
              exitCode?: number;
              error?: string;
            };
            resolve(execStatus(start.command, exit.exitCode ?? 0, exit.error));
            return;
          }
        }
      };
      socket.on("data", onData);
      socket.on("error", (e) =>
        reject(
          new StatusError("InternalError", `Internal error occurred: exec stream: ${e.message}`),
        ),
      );
      socket.on("close", () =>
        reject(
          call.signal.aborted
            ? new StatusError("BadRequest", "the exec was cancelled by the client")
            : new StatusError(
                "InternalError",
                "Internal error occurred: the agent closed the exec stream before the command's exit status",
              ),
        ),
      );
      if (head.length > 0) onData(Buffer.alloc(0));
    });
  } finally {
    call.signal.removeEventListener("abort", onAbort);
    socket.destroy();
    void pump;
  }
}
