/**
 * Every config key is also a flag named by its YAML path (`--watcher.clean.max-reserve-days`), with
 * the key's doc and default (a secret's as `***`) in `--help`.
 */
import { Option, type Command } from 'commander';
import { configKeys, defaultText, FLAG_ALIASES, type WatcherSpec } from './options/index.js';

/** Maps commander attribute names back to config key paths. */
export type FlagMap = Map<string, string>;

/** Adds `-c/--config` and a flag for every config key, named by its YAML path; returns their map. */
export function addConfigFlags(cmd: Command, watchers: readonly WatcherSpec[]): FlagMap {
  const map: FlagMap = new Map();
  cmd.option('-c, --config <file>', 'configuration file (default: ./iam-watcher.yaml, ~/.iam/, /etc/iam/)');
  for (const k of configKeys(watchers)) {
    const { key, field } = k;
    const def = defaultText(k); // a secret's formatter shows `***` (or nothing when empty)
    const opt = new Option(
      `--${key} ${field.placeholder}`,
      `${field.doc} (default: ${def === '' ? '""' : def})`,
    );
    map.set(opt.attributeName(), key);
    cmd.addOption(opt);
  }
  // The Go original's own spellings (`--mysql.log-mode` for mysql.log-level).
  for (const [flag, key] of FLAG_ALIASES) {
    const opt = new Option(`--${flag} <value>`, `the Go iam-watcher's name of --${key}`);
    map.set(opt.attributeName(), key);
    cmd.addOption(opt);
  }
  return map;
}

/** The config flags given on the command line: key path -> raw string. */
export function flagValues(cmd: Command, map: FlagMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [attr, value] of Object.entries(cmd.opts())) {
    const key = map.get(attr);
    if (key !== undefined && typeof value === 'string') out[key] = value;
  }
  return out;
}
