/** A watcher's scheduler config for tests that drive the Scheduler directly. */
import type { WatcherConfig } from '../../internal/watcher/config.js';

/** Every second, fixed-rate, overlap skip, no catch-up, UTC, not dry-run; `over` replaces keys. */
export function watcherConfig(name: string, over: Partial<WatcherConfig> = {}): WatcherConfig {
  return {
    name,
    enabled: true,
    schedule: '@every 1s',
    mode: 'fixed-rate',
    overlap: 'skip',
    catchUpMs: 0,
    timeZone: 'UTC',
    dryRun: false,
    batchSize: 100,
    options: {},
    ...over,
  };
}
