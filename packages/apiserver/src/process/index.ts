// The tug-apiserver process: settings (flags, TUG_APISERVER_* environment, YAML --config), the
// health/metrics HTTP server, JSON logs, and the main that bin/tug-apiserver.ts runs.
export { type HealthServer, startHealthServer } from "./health-server.js";
export { createLogger, type LogFields, type Logger } from "./logger.js";
export { type RunningApiServer, type RunOptions, runTugApiserver } from "./main.js";
export { ApiServerMetrics } from "./metrics.js";
export {
  type ApiServerSettings,
  ConfigError,
  ENV_PREFIX,
  envName,
  FLAGS,
  helpText,
  parseDuration,
  parseSettings,
} from "./settings.js";
