// @tug/cri-docker — tug-cri-docker, a CRI v1 runtime over Docker, and a typed CRI client.
export {
  CRI_CALL_TIMEOUT_MS,
  type CriCallOptions,
  CriClient,
  type ImageServiceClient,
  type RuntimeServiceClient,
} from "./client.js";
export { LABEL as CRI_DOCKER_LABELS } from "./container-labels.js";
export { CriError } from "./cri-error.js";
export {
  type CallObserver,
  type CallRecord,
  RUNTIME_API_VERSION,
  RUNTIME_NAME,
} from "./cri-handlers.js";
export {
  CriServer,
  type CriServerOptions,
  DEFAULT_CRI_SOCKET,
  DEFAULT_PAUSE_IMAGE,
} from "./cri-server.js";
export { DEFAULT_DOCKER_ENDPOINT } from "./docker-endpoint.js";
export { EXEC_PROTOCOL, EXIT_STREAM } from "./exec-streaming-server.js";
export * as cri from "./gen/cri/api_pb.js";
