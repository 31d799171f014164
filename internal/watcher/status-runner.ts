/**
 * The daemon's status watchers: one {@link StatusWorker} (the kit's status recipe) per enabled status
 * watcher, started after the connections and stopped before them, beside the scheduler (which runs
 * the scheduled watchers and never sees these).
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { WatcherConfig, WatcherEntry } from './config.js';
import type { RowClaims } from './lock/index.js';
import { isStatusWatcher, type AnyStatusWatcher } from './watcher/status-watcher.js';
import type { AnyPlugin, AnyWatcher } from './watcher/registry.js';
import { StatusWorker } from './kit/status-worker.js';
import type { StatusHooks } from './kit/status-counts.js';
import type { StatusSettings } from './kit/status-spec.js';
import { IllegalStateError } from './errors.js';

/** What the runner needs. */
export interface StatusRunnerDeps {
  readonly db: Pool;
  /** The row claims of one watcher (Redis under `lock.key-prefix`, or in-process). */
  rowClaims(watcher: string): RowClaims;
  readonly logger: Logger;
  readonly instanceId: string;
  readonly hooks?: StatusHooks;
}

/** A status watcher's settings from its config. @throws IllegalStateError for a scheduled watcher's. */
export function statusSettings(wc: WatcherConfig): StatusSettings {
  if (wc.status === undefined) throw new IllegalStateError(`watcher.${wc.name} is no status watcher`);
  return { dryRun: wc.dryRun, batchSize: wc.batchSize, ...wc.status };
}

/** Makes the worker of one status watcher. */
export function statusWorker(deps: StatusRunnerDeps, e: WatcherEntry<AnyStatusWatcher>): StatusWorker {
  const name = e.watcher.name;
  return new StatusWorker({
    watcher: name,
    table: e.watcher.table,
    handle: e.watcher.handle,
    options: e.config.options,
    settings: statusSettings(e.config),
    db: deps.db,
    claims: deps.rowClaims(name),
    logger: deps.logger.child({ watcher: name, instance: deps.instanceId }),
    instanceId: deps.instanceId,
    ...(deps.hooks === undefined ? {} : { hooks: deps.hooks }),
  });
}

/** The status watchers of one daemon. */
export class StatusRunner {
  readonly #workers = new Map<string, { worker: StatusWorker; config: WatcherConfig }>();
  #stopped = false;

  constructor(private readonly deps: StatusRunnerDeps) {}

  /** Starts a worker per entry. */
  start(entries: ReadonlyArray<WatcherEntry<AnyStatusWatcher>>): void {
    for (const e of entries) this.#add(e);
  }

  #add(e: WatcherEntry<AnyStatusWatcher>): void {
    const worker = statusWorker(this.deps, e);
    this.#workers.set(e.watcher.name, { worker, config: e.config });
    worker.start();
  }

  /** SIGHUP: a watcher whose settings changed is stopped (claims given back) and started again. */
  async reconfigure(
    entries: ReadonlyArray<WatcherEntry<AnyStatusWatcher>>,
    stopTimeoutMs: number,
  ): Promise<void> {
    const wanted = new Map(entries.map((e) => [e.watcher.name, e]));
    for (const [name, w] of [...this.#workers]) {
      const e = wanted.get(name);
      if (e !== undefined && JSON.stringify(e.config) === JSON.stringify(w.config)) {
        wanted.delete(name);
        continue;
      }
      this.#workers.delete(name);
      await w.worker.stop(stopTimeoutMs);
    }
    if (!this.#stopped) for (const e of wanted.values()) this.#add(e);
  }

  /** Stops every worker at once (see {@link StatusWorker.stop}). @returns handlers abandoned. */
  async stop(timeoutMs: number): Promise<{ abandoned: number }> {
    this.#stopped = true;
    const results = await Promise.all([...this.#workers.values()].map((w) => w.worker.stop(timeoutMs)));
    this.#workers.clear();
    return { abandoned: results.reduce((n, r) => n + r.abandoned, 0) };
  }
}

/** Scheduled watchers (for the scheduler) and status watchers (for the status runner). */
export function splitEntries<E extends { readonly watcher: AnyPlugin }>(
  all: readonly E[],
): {
  entries: Array<E & { watcher: AnyWatcher }>;
  status: Array<E & { watcher: AnyStatusWatcher }>;
} {
  const entries: Array<E & { watcher: AnyWatcher }> = [];
  const status: Array<E & { watcher: AnyStatusWatcher }> = [];
  for (const e of all) {
    if (isStatusWatcher(e.watcher)) status.push(e as E & { watcher: AnyStatusWatcher });
    else entries.push(e as E & { watcher: AnyWatcher });
  }
  return { entries, status };
}
