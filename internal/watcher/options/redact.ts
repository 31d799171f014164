/**
 * What may be shown of a config: the effective-config view for `iam-watcher validate`, and what the
 * logger and the printed outputs must censor. All come from the schema, so a watcher option marked
 * secret is covered as well as `mysql.password`.
 */
import type { Config } from '../config.js';
import type { WatcherSpec } from './watcher-keys.js';
import { configKeys, readProp, writeProp } from './schema.js';

/**
 * The effective configuration as a nested plain object in YAML shape (kebab-case keys), values as an
 * operator would write them (`3m`, `0.0.0.0:5050`), secrets as `***` (an empty secret as `''`).
 * Lists stay lists and booleans and numbers keep their types, so it prints as valid config YAML.
 */
export function effectiveConfigView(
  config: Config,
  watchers: readonly WatcherSpec[],
): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const k of configKeys(watchers)) {
    // An unset optional value (time-zone) reads back as the empty string it was written as.
    const value = readProp(config, k.prop) ?? '';
    writeProp(
      view,
      k.key.split('.'),
      k.field.secret ? k.field.format(value) : plain(k.field.kind, value, k.field.format(value)),
    );
  }
  return view;
}

function plain(kind: string, value: unknown, formatted: string): unknown {
  if (Array.isArray(value)) return [...(value as unknown[])];
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && !kind.startsWith('duration')) return value;
  return formatted;
}

/**
 * The property names the logger censors wherever they appear in a line: the last segment of every
 * secret key, as YAML writes it (`api-token`) and as the config holds it (`apiToken`).
 */
export function secretKeyNames(watchers: readonly WatcherSpec[]): string[] {
  const names = new Set<string>();
  for (const k of configKeys(watchers)) {
    if (!k.field.secret) continue;
    names.add(k.key.slice(k.key.lastIndexOf('.') + 1));
    const prop = k.prop[k.prop.length - 1];
    if (prop !== undefined) names.add(prop);
  }
  return [...names];
}

/** The non-empty secret values of a config, for scrubbing text that did not come from the schema. */
export function secretValues(config: Config, watchers: readonly WatcherSpec[]): string[] {
  return configKeys(watchers)
    .filter((k) => k.field.secret)
    .map((k) => readProp(config, k.prop))
    .filter((v): v is string => typeof v === 'string' && v !== '');
}
