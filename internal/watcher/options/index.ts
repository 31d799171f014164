/**
 * The configuration module's public API: schema, loader and what may be shown of a config.
 */
export { configKeys, defaultText, envName, ENV_PREFIX, type ConfigKey } from './schema.js';
export { COMMON_WATCHER_KEYS, type WatcherSpec } from './watcher-keys.js';
export {
  loadConfig,
  findConfigFile,
  configSearchPath,
  CONFIG_FILE_NAME,
  type LoadInput,
  type ScheduleCheck,
} from './load.js';
export { effectiveConfigView, secretKeyNames, secretValues } from './redact.js';
export { diffConfig, reloadable, type ConfigChange, type ConfigDiff } from './diff.js';
export { expandVars, type Expansion } from './expand.js';
export { MAX_CONFIG_BYTES } from './read-file.js';
export { FLAG_ALIASES, IGNORED_KEYS, ignoredSettings, type IgnoredSetting } from './compat.js';
