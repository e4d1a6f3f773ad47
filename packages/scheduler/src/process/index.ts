// tug-scheduler's process: settings, the API adapters and the run function.
export {
  apiBinder,
  apiEventRecorder,
  apiPodConditionWriter,
  POD_SCHEDULED,
  type SchedulerApi,
} from "./api-adapters.js";
export { type RunningScheduler, type RunOptions, runTugScheduler } from "./main.js";
export {
  ConfigError,
  ENV_PREFIX,
  envName,
  parseSettings,
  type SchedulerSettings,
} from "./settings.js";
