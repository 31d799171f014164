/** Loads a config from flags alone (no file, no environment), as the daemon would compile it. */
import { loadConfig } from '../../internal/watcher/options/index.js';
import type { WatcherSpec } from '../../internal/watcher/options/index.js';
import type { Config } from '../../internal/watcher/config.js';
import { checkSchedule } from '../../internal/watcher/scheduler/spec.js';

export function loadFromFlags(watchers: readonly WatcherSpec[], flags: Record<string, string>): Config {
  return loadConfig({
    flags,
    env: {},
    cwd: '/',
    homeDir: '/',
    searchPath: [],
    hostname: 'h',
    pid: 1,
    watchers,
    checkSchedule,
  });
}
