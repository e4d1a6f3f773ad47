// The tug-apiserver process: settings (flags, TUG_APISERVER_* environment, YAML --config), its
// metrics, and the main that bin/tug-apiserver.ts runs. Logs and the health/metrics HTTP server
// are @tug/daemon's.
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
