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
  /** Told when a watcher starts and when it stops for good (the metrics drop its gauges then). */
  readonly events?: StatusRunnerEvents;
}

/** What the runner tells about its watchers. */
export interface StatusRunnerEvents {
  /** A worker of `watcher` started: at start-up, or enabled by a reload. */
  started?(watcher: string): void;
  /** `watcher` no longer runs here: disabled by a reload (not called at shutdown). */
  removed?(watcher: string): void;
}

/** A reload's request: the latest one is applied once the one in progress has finished. */
interface Wanted {
  readonly entries: ReadonlyArray<WatcherEntry<AnyStatusWatcher>>;
  readonly stopTimeoutMs: number;
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

/**
 * The status watchers of one daemon. Reloads are applied one at a time, in the order they came: a
 * SIGHUP while an earlier reload still stops a worker waits for it, so that a watcher never has two
 * workers (and a stopped runner none).
 */
export class StatusRunner {
  readonly #workers = new Map<string, { worker: StatusWorker; config: WatcherConfig }>();
  #stopped = false;
  /** The reload being applied (never rejects); stop() waits for it. */
  #applying: Promise<void> = Promise.resolve();
  /** The latest reload not yet applied. */
  #wanted: Wanted | undefined;

  constructor(private readonly deps: StatusRunnerDeps) {}

  /** Starts a worker per entry. */
  start(entries: ReadonlyArray<WatcherEntry<AnyStatusWatcher>>): void {
    for (const e of entries) this.#add(e);
  }

  #add(e: WatcherEntry<AnyStatusWatcher>): void {
    const worker = statusWorker(this.deps, e);
    this.#workers.set(e.watcher.name, { worker, config: e.config });
    worker.start();
    this.#tell(() => this.deps.events?.started?.(e.watcher.name));
  }

  #tell(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.logger.warn({ event: 'status.hook-failed', err }, 'a status hook threw');
    }
  }

  /**
   * SIGHUP: a watcher whose settings changed is stopped (claims given back) and started again; one
   * no longer enabled is stopped. Resolves once applied (with the reloads queued before it). Reloads
   * that come while one is applied are coalesced: the latest wins.
   */
  reconfigure(entries: ReadonlyArray<WatcherEntry<AnyStatusWatcher>>, stopTimeoutMs: number): Promise<void> {
    this.#wanted = { entries, stopTimeoutMs };
    const applied = this.#applying.then(() => this.#applyWanted());
    this.#applying = applied.catch(() => undefined);
    return applied;
  }

  async #applyWanted(): Promise<void> {
    const wanted = this.#wanted;
    this.#wanted = undefined;
    if (wanted === undefined || this.#stopped) return; // an earlier call applied it, or stop() came
    const next = new Map(wanted.entries.map((e) => [e.watcher.name, e]));
    const gone: Array<[string, StatusWorker]> = [];
    for (const [name, w] of this.#workers) {
      const e = next.get(name);
      if (e !== undefined && JSON.stringify(e.config) === JSON.stringify(w.config)) next.delete(name);
      else gone.push([name, w.worker]);
    }
    for (const [name] of gone) this.#workers.delete(name);
    await Promise.all(gone.map(([, worker]) => worker.stop(wanted.stopTimeoutMs)));
    const restarted = gone.filter(([name]) => next.has(name)).map(([name]) => name);
    const stopped = gone.filter(([name]) => !next.has(name)).map(([name]) => name);
    for (const name of stopped) this.#tell(() => this.deps.events?.removed?.(name));
    if (this.#stopped) return;
    for (const e of next.values()) this.#add(e);
    this.deps.logger.info(
      {
        event: 'status.reconfigured',
        started: [...next.keys()].filter((n) => !restarted.includes(n)),
        restarted,
        stopped,
        watchers: [...this.#workers.keys()],
      },
      'status watchers reloaded',
    );
  }

  /**
   * Stops every worker at once (see {@link StatusWorker.stop}), and waits for a reload in progress.
   * @returns handlers abandoned.
   */
  async stop(timeoutMs: number): Promise<{ abandoned: number }> {
    this.#stopped = true;
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    const [results] = await Promise.all([
      Promise.all(workers.map((w) => w.worker.stop(timeoutMs))),
      this.#applying,
    ]);
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
