/**
 * Look-up tables derived from the schema: leaf keys, group prefixes and environment names.
 */
import type { WatcherSpec } from './watcher-keys.js';
import { configKeys, envName, type ConfigKey } from './schema.js';

/** The schema, indexed for the loader. */
export interface KeyIndex {
  /** Every key, in schema order. */
  readonly keys: readonly ConfigKey[];
  readonly byKey: ReadonlyMap<string, ConfigKey>;
  /** Every proper prefix of a key: `mysql`, `watcher`, `watcher.clean`. */
  readonly groups: ReadonlySet<string>;
  /** `IAM_WATCHER_*` name -> keys; more than one key means the name is ambiguous. */
  readonly byEnv: ReadonlyMap<string, readonly ConfigKey[]>;
  readonly watcherNames: readonly string[];
}

const indexOf = new WeakMap<readonly WatcherSpec[], KeyIndex>();

/** The look-up tables for a list of watchers, built once per list (a reload uses them again). */
export function indexKeys(watchers: readonly WatcherSpec[]): KeyIndex {
  let index = indexOf.get(watchers);
  if (index === undefined) {
    index = buildIndex(watchers);
    indexOf.set(watchers, index);
  }
  return index;
}

function buildIndex(watchers: readonly WatcherSpec[]): KeyIndex {
  const keys = configKeys(watchers);
  const byKey = new Map(keys.map((k) => [k.key, k]));
  const groups = new Set<string>();
  const byEnv = new Map<string, ConfigKey[]>();
  for (const k of keys) {
    const parts = k.key.split('.');
    for (let i = 1; i < parts.length; i++) groups.add(parts.slice(0, i).join('.'));
    const name = envName(k.key);
    byEnv.set(name, [...(byEnv.get(name) ?? []), k]);
  }
  return { keys, byKey, groups, byEnv, watcherNames: watchers.map((w) => w.name) };
}
