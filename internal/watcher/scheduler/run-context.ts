/**
 * What a watcher's `run` gets: the run context (slot, logger, options, settings, database, `count`
 * and the abort signal, made on first use), and the settings shared by the runs of one config.
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { WatcherConfig } from '../config.js';
import { LazyAbort } from '../../pkg/abort/lazy-abort.js';
import type { RunContext, RunSettings } from '../watcher/registry.js';

/** What the watcher gets: the {@link RunContext} of one run. */
export class WatcherContext implements RunContext<object> {
  readonly #abort = new LazyAbort();
  /** @internal Rows counted by the watcher, by action. */
  readonly counted: Record<string, number> = {};

  constructor(
    readonly watcher: string,
    readonly slot: Date,
    readonly instanceId: string,
    readonly logger: Logger,
    readonly options: Readonly<object>,
    readonly settings: RunSettings,
    readonly db: Pool,
    readonly dbConnectionLimit: number,
  ) {}

  count(action: string, n: number): void {
    this.counted[action] = (this.counted[action] ?? 0) + n;
  }

  /** Made when the watcher first asks for it (see {@link LazyAbort}). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** @internal Read without making the signal. */
  get aborted(): boolean {
    return this.#abort.aborted;
  }

  /** @internal Fires the signal (once). */
  abort(reason: unknown): void {
    this.#abort.abort(reason);
  }
}

/** Settings per config (and dry-run override): shared by the runs of one config, never mutated. */
const settingsCache = new WeakMap<WatcherConfig, RunSettings>();

/** The settings of a run of `config`; its own (uncached) ones when `dryRun` overrides the config's. */
export function settingsOf(config: WatcherConfig, dryRun: boolean | undefined): RunSettings {
  if (dryRun !== undefined && dryRun !== config.dryRun) return { dryRun, batchSize: config.batchSize };
  let s = settingsCache.get(config);
  if (s === undefined) {
    s = Object.freeze({ dryRun: config.dryRun, batchSize: config.batchSize });
    settingsCache.set(config, s);
  }
  return s;
}
