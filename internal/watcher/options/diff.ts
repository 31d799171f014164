/**
 * What a reload changes: the keys whose values differ between two configs, shown as `validate`
 * shows them (secrets as `***`), split into keys applied live (`watcher.*`) and keys that only take
 * effect after a restart (connections, lock, listener, logging, instance, timeouts).
 */
import type { Config } from '../config.js';
import type { WatcherSpec } from './watcher-keys.js';
import { configKeys, readProp } from './schema.js';

/** One changed key. `from`/`to` are display values; a secret shows `***` (or `''` when empty). */
export interface ConfigChange {
  readonly key: string;
  readonly from: string;
  readonly to: string;
}

/** The outcome of {@link diffConfig}. */
export interface ConfigDiff {
  /** Changed `watcher.*` keys: the scheduler applies them on reload. */
  readonly applied: readonly ConfigChange[];
  /** Changed keys the running daemon keeps until it is restarted. */
  readonly needsRestart: readonly ConfigChange[];
}

/** Whether a key is applied by a reload (SIGHUP) rather than needing a restart. */
export function reloadable(key: string): boolean {
  return key.startsWith('watcher.');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compares two configs key by key. Raw values are compared (so a changed password is seen), and
 * shown through the key's formatter (so it is never printed).
 */
export function diffConfig(before: Config, after: Config, watchers: readonly WatcherSpec[]): ConfigDiff {
  const applied: ConfigChange[] = [];
  const needsRestart: ConfigChange[] = [];
  for (const k of configKeys(watchers)) {
    const a = readProp(before, k.prop) ?? '';
    const b = readProp(after, k.prop) ?? '';
    if (same(a, b)) continue;
    const change = { key: k.key, from: k.field.format(a), to: k.field.format(b) };
    (reloadable(k.key) ? applied : needsRestart).push(change);
  }
  return { applied, needsRestart };
}
