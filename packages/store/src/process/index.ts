// The tug-store process: settings (flags, TUG_STORE_* environment, YAML config file) and their
// validation, the metrics/health HTTP routes, Prometheus metrics, and the main that runs a
// member. bin/tug-store.ts is runTugStore with the process's argv and signals. JSON logs, the
// registry and the HTTP server are @tug/daemon's.

export {
  type InitialMember,
  type ListenUrl,
  LOG_LEVELS,
  type LogLevel,
  type StoreConfig,
  validateSettings,
} from "./config.js";
export {
  ConfigError,
  ENV_PREFIX,
  envName,
  FLAGS,
  type FlagSpec,
  helpText,
  type ParsedCommandLine,
  parseCommandLine,
} from "./flags.js";
export {
  type Check,
  type HttpEndpoints,
  ListenError,
  startHttpEndpoints,
} from "./http-endpoints.js";
export { type RunningStore, type RunOptions, runTugStore } from "./main.js";
