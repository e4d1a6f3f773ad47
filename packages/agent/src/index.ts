// @tug/agent — tug-agent, the node agent: node registration and heartbeat, pod workers over
// CRI, probes, volumes, container GC and the agent API (docs/agent.md).
export {
  Agent,
  type AgentOptions,
  DEFAULT_AGENT_PORT,
  DEFAULT_MAX_PODS,
  DEFAULT_ROOT_DIR,
  RELIST_PERIOD_MS,
  RESYNC_PERIOD_MS,
} from "./agent.js";
export {
  CONTAINER_GC_PERIOD_MS,
  collectGarbage,
  MAX_DEAD_PER_CONTAINER,
} from "./gc/container-gc.js";
export { jsonLogger, type Logger, type LogLevel, silentLogger } from "./log.js";
export {
  NODE_LEASE_DURATION_SECONDS,
  NODE_LEASE_NAMESPACE,
  NODE_LEASE_RENEW_MS,
  NODE_STATUS_UPDATE_MS,
} from "./node/node-heartbeat.js";
export { AGENT_VERSION, nodeAllocatable } from "./node/node-object.js";
export {
  BACK_OFF_RESET_MS,
  goDuration,
  INITIAL_BACK_OFF_MS,
  MAX_BACK_OFF_MS,
  RestartBackOff,
} from "./pods/back-off.js";
export { CREATE_CONTAINER_CONFIG_ERROR } from "./pods/container-config-error.js";
export { expandEnvReferences } from "./pods/container-env.js";
export { computePodStatus, podPhase } from "./pods/pod-status.js";
export { POD_ANNOTATION, POD_LABEL } from "./runtime/pod-labels.js";
export { defaultPodNetwork, type PodNetwork } from "./runtime/pod-network.js";
export { CriLogParser, type LogLine } from "./server/cri-log-reader.js";
export {
  type AgentExecOptions,
  type AgentExecResult,
  agentExec,
  ExecFrameDecoder,
  encodeExecFrame,
} from "./server/exec-client.js";
