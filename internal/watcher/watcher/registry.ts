/**
 * The watcher plug-in contract and its registry. A watcher is one folder with a `watcher.ts` that
 * exports its {@link Watcher} and calls {@link register}; `all.ts` imports every folder for that side
 * effect. Locks, leases, overlap and the outcome log live once, in the scheduler, not in watchers.
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import { WatcherDefinitionError } from '../errors.js';
import type { OptionFields } from '../options/fields.js';
import { checkStatusTable } from '../kit/status-sql.js';
import { isStatusWatcher, type AnyStatusWatcher } from './status-watcher.js';

/**
 * What a run reports beside its row counts (`batches`, `dryRun`); the scheduler adds the rows counted
 * through {@link RunContext.count} and writes both into the `run.finished` log line.
 */
export type RunCounts = Readonly<Record<string, number | boolean | string>>;

/** A run's counts as the scheduler records them: what it returned, then the rows it counted. */
export function runCounts(returned: RunCounts | void, counted: Readonly<Record<string, number>>): RunCounts {
  // Most runs count no rows: their counts are what they returned, as they returned it.
  for (const _ in counted) return { ...returned, ...counted };
  return returned ?? NO_COUNTS;
}

const NO_COUNTS: RunCounts = Object.freeze({});

/** Settings every watcher has (`watcher.<name>.dry-run`, `watcher.<name>.batch-size`). */
export interface RunSettings {
  /** Count and name what would change; change nothing. */
  readonly dryRun: boolean;
  /** Rows per statement. */
  readonly batchSize: number;
}

/** Everything a run may use. Nothing else: no module-level singletons. */
export interface RunContext<O> {
  readonly watcher: string;
  /** The scheduled slot this run serves (not the time it started). */
  readonly slot: Date;
  readonly instanceId: string;
  /** Child logger; every line carries `watcher`. */
  readonly logger: Logger;
  /** Fires on shutdown or when the lease is lost: stop at the next safe point. */
  readonly signal: AbortSignal;
  /** The watcher's own options, validated. */
  readonly options: Readonly<O>;
  readonly settings: RunSettings;
  /**
   * The IAM database (mysql2 promise pool, UTC session). Watchers go through the kit
   * (`internal/watcher/kit`), which bounds what a run holds.
   */
  readonly db: Pool;
  /** Most connections the pool lends (`mysql.max-open-connections`): a run never asks for more. */
  readonly dbConnectionLimit: number;
  /**
   * Adds `n` rows to the run's count of `action` (`deleted`, `disabled`): the totals go into the
   * `run.finished` line and, unless the run is a dry run, into `iam_watcher_rows_affected_total`.
   */
  count(action: string, n: number): void;
}

/** A periodic job. `O` is the type of its own options (`watcher.<name>.*` beyond the common keys). */
export interface Watcher<O extends object = Record<string, never>> {
  /** A scheduled watcher (the default); status watchers say `status` (see status-watcher.ts). */
  readonly kind?: 'scheduled';
  /** Unique name; also the config key `watcher.<name>`. Lower-case letters, digits and dashes. */
  readonly name: string;
  /** One sentence for `list` and the docs. */
  readonly description: string;
  /** Default schedule spec (cron or `@every`). */
  readonly schedule: string;
  /** Default for `watcher.<name>.enabled` (true when absent). */
  readonly enabledByDefault?: boolean;
  /** The watcher's own options with their defaults. */
  readonly options: OptionFields<O>;
  /** Called once at start-up (and on reload) with the validated options; a place to say "off". */
  describe?(options: Readonly<O>): string | undefined;
  /** One run. Returns its counts. Throwing marks the run failed; it never stops the daemon. */
  run(ctx: RunContext<O>): Promise<RunCounts | void>;
}

/** A watcher with its option type erased, as the registry stores it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWatcher = Watcher<any>;

/** Any registered watcher: scheduled or status. */
export type AnyPlugin = AnyWatcher | AnyStatusWatcher;

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A set of watchers by name. The daemon uses {@link defaultRegistry}; tests may make their own. */
export class Registry {
  readonly #watchers = new Map<string, AnyPlugin>();

  /** Adds a watcher. @throws WatcherDefinitionError on a duplicate or malformed name, or a malformed status table. */
  register(watcher: AnyPlugin): void {
    if (!NAME.test(watcher.name)) {
      throw new WatcherDefinitionError(
        `watcher name ${JSON.stringify(watcher.name)} must match ${String(NAME)}`,
      );
    }
    if (this.#watchers.has(watcher.name)) {
      throw new WatcherDefinitionError(`watcher "${watcher.name}" is registered twice`);
    }
    if (isStatusWatcher(watcher)) checkStatusTable(watcher.name, watcher.table);
    this.#watchers.set(watcher.name, watcher);
  }

  get(name: string): AnyPlugin | undefined {
    return this.#watchers.get(name);
  }

  /** All watchers, sorted by name. */
  list(): readonly AnyPlugin[] {
    return [...this.#watchers.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** The registry `all.ts` fills. */
export const defaultRegistry = new Registry();

/** Registers a watcher in the default registry (called by each watcher module on import). */
export function register(watcher: AnyPlugin): void {
  defaultRegistry.register(watcher);
}
