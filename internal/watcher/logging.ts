/**
 * The daemon's logger: the `log.*` settings, with every secret the schema declares censored, by the
 * name of its key (`password`, `api-token`, `apiToken`) and by its value wherever it appears.
 */
import { createLogger, LogOutputError, pinoLevel, type Logger } from '../pkg/log/log.js';
import type { Secrets } from '../pkg/censor/censor.js';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import { secretKeyNames, secretValues, type WatcherSpec } from './options/index.js';

/**
 * Builds the logger. `secrets` gets the config's secret values; the caller adds those of a reloaded
 * config to the same set, so the logger censors them too.
 * @throws ConfigError naming `log.output-paths` or `log.error-output-paths` and the path when a log
 * file cannot be opened.
 */
export function createDaemonLogger(
  config: Config,
  watchers: readonly WatcherSpec[],
  secrets: Secrets,
): Logger {
  secrets.add(secretValues(config, watchers));
  try {
    // No `instance` in the base: the daemon's event lines name it themselves, and a base field
    // would appear twice in them.
    const { development: _d, disableCaller: _c, ...log } = config.log;
    return createLogger({
      ...log,
      level: pinoLevel(log.level),
      secretKeys: secretKeyNames(watchers),
      secrets,
    });
  } catch (err) {
    if (err instanceof LogOutputError) {
      throw new ConfigError([{ key: `log.${err.option}`, message: err.message }]);
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ key: 'log.output-paths', message: `cannot open log output: ${reason}` }]);
  }
}
