/**
 * What the Go iam-watcher's configuration has that this daemon accepts without a counterpart: the
 * keys are in the schema (so an existing file, its flags and its environment load unchanged), and a
 * value that asks for something this daemon does not do is reported once at start-up, never dropped
 * silently.
 */
import type { Config } from '../config.js';
import { configKeys, readProp } from './schema.js';
import type { WatcherSpec } from './watcher-keys.js';

/** Why each compatibility-only key has no effect here. */
export const IGNORED_KEYS: ReadonlyMap<string, string> = new Map([
  ['mysql.log-level', 'GORM log level: there is no ORM here and SQL statements are never logged'],
  [
    'redis.optimisation-max-idle',
    'Redis pool size: the daemon uses one multiplexed connection per Redis server, not a pool',
  ],
  [
    'redis.optimisation-max-active',
    'Redis pool size: the daemon uses one multiplexed connection per Redis server, not a pool',
  ],
  [
    'log.development',
    "zap's development mode (stack traces from warn up, panic on dpanic) has no pino counterpart",
  ],
  [
    'log.disable-caller',
    'pino records no caller (file:line): it would cost a stack trace per line; lines name their event instead',
  ],
]);

/** Flag spellings of the Go original that differ from the key path: flag -> key. */
export const FLAG_ALIASES: ReadonlyMap<string, string> = new Map([['mysql.log-mode', 'mysql.log-level']]);

/** A compatibility-only key whose value asks for something the daemon does not do. */
export interface IgnoredSetting {
  readonly key: string;
  readonly value: unknown;
  readonly reason: string;
}

/**
 * The compatibility-only keys of `config` set to anything but their default (the defaults describe
 * what the daemon does: `log.disable-caller: true`, `mysql.log-level: 1` = silent).
 */
export function ignoredSettings(config: Config, watchers: readonly WatcherSpec[]): IgnoredSetting[] {
  const out: IgnoredSetting[] = [];
  for (const k of configKeys(watchers)) {
    const reason = IGNORED_KEYS.get(k.key);
    if (reason === undefined) continue;
    const value = readProp(config, k.prop);
    if (value !== k.field.default) out.push({ key: k.key, value, reason });
  }
  return out;
}
