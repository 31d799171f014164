/**
 * What the kit needs of a watcher's run. The scheduler's `RunContext` has all of it, so a watcher
 * passes its context as is; the kit does not import the plug-in contract, so it depends on nothing
 * of the watcher folder.
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';

/**
 * What a recipe returns, for the run's log line (its rows go through {@link KitRun.count}). A type,
 * not an interface, so that it is a watcher's `RunCounts` as it is.
 */
export type RecipeTotals = {
  /** Batches (statements or transactions) run. */
  readonly batches: number;
  readonly dryRun: boolean;
};

/** The parts of a run context the kit's recipes use. */
export interface KitRun {
  /** The IAM database. */
  readonly db: Pool;
  /** Most connections the pool lends (`mysql.max-open-connections`): a run never asks for more. */
  readonly dbConnectionLimit: number;
  readonly settings: {
    /** Count and name what would change; change nothing. */
    readonly dryRun: boolean;
    /** Most rows one batch changes (and so locks). */
    readonly batchSize: number;
  };
  /** Checked before every batch, never inside one. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Adds `n` rows to the run's count of `action` (`deleted`, `disabled`). */
  count(action: string, n: number): void;
}
