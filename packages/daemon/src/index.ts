// @tug/daemon: what every tug daemon's process needs besides its own work (DESIGN.md,
// "Processes"): JSON logs, the /healthz /readyz /metrics HTTP side, the Prometheus text
// format, and settings layered flag > environment > config file > default. docs/daemon.md.

export { closestName, editDistance } from "./closest-name.js";
export { ConfigError } from "./config-error.js";
export {
  type DaemonOutput,
  type DaemonRunOptions,
  type ParsedSettings,
  packageVersion,
  settingsOrExit,
} from "./daemon-start.js";
export { type GatherOptions, type GatherResult, gatherSettings } from "./gather-settings.js";
export { parseDuration } from "./go-duration.js";
export {
  type HealthRoutesOptions,
  type HealthServerOptions,
  healthRoutes,
  metricsAnswer,
  startHealthServer,
} from "./health-routes.js";
export {
  type HttpAnswer,
  type HttpEndpoints,
  type HttpEndpointsOptions,
  type HttpListenAddress,
  type HttpRoute,
  jsonAnswer,
  ListenError,
  startHttpEndpoints,
  textAnswer,
} from "./http-endpoints.js";
export {
  createLogger,
  isLogLevel,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLayout,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export {
  Counter,
  escapeLabelValue,
  exponentialBuckets,
  formatValue,
  Gauge,
  type GaugeCollect,
  Histogram,
  type HistogramState,
  type Labels,
  labelText,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./metrics-registry.js";
export {
  describeSetting,
  type RawSetting,
  type RawSettings,
  type SettingSource,
} from "./raw-setting.js";
export {
  buildCommand,
  envVarName,
  type FlagSpec,
  helpText,
  type SettingsCommand,
} from "./settings-command.js";
export { SettingsReader } from "./settings-reader.js";
