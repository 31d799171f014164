/**
 * What a status watcher's author declares: the table whose status column says "to do", the values
 * it moves to, and the handler of one row. The kit's status recipe ({@link StatusWorker}) does the
 * rest: claiming, leases, retries, the guarded final UPDATE, metrics.
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { StatusConfig } from '../config.js';

/** A row as the handler gets it: every column of the table, by name. */
export type StatusRow = Readonly<Record<string, unknown>>;

/** The table a status watcher polls. Names are SQL identifiers (letters, digits, `_`). */
export interface StatusTable {
  /** The business table (`user_init`). */
  readonly table: string;
  /** Its unique key column (`id`): rows are claimed by it and scanned in its order. */
  readonly key: string;
  /** The status column (`status`). */
  readonly statusColumn: string;
  /** Values of the status column that mean "to do" (`['pending']`). */
  readonly todo: readonly string[];
  /** Value written when the handler succeeded (`normal`). */
  readonly done: string;
  /** Value written after the last failed attempt; absent = the row is left in its to-do status. */
  readonly failed?: string;
  /** Extra SQL condition on the rows to take (ANDed; no user input: it is part of the watcher). */
  readonly where?: string;
  /** A DATETIME/TIMESTAMP column whose oldest waiting value gives the waiting-age metric. */
  readonly since?: string;
}

/** What the handler of one row gets beside the row. */
export interface HandlerContext<O> {
  readonly watcher: string;
  readonly instanceId: string;
  /** 1 for the first try of this row, 2 for its first retry, ... */
  readonly attempt: number;
  /** Fires on timeout, shutdown or a lost claim: stop, and throw (the attempt then counts as failed). */
  readonly signal: AbortSignal;
  /** Carries `watcher`, `instance` and the row's `key`. */
  readonly logger: Logger;
  /** The IAM database (mysql2 promise pool, UTC session). */
  readonly db: Pool;
  /** The watcher's own options, validated. */
  readonly options: Readonly<O>;
}

/**
 * Handles one row. Resolving = success (the framework then writes the done value); throwing = a
 * failed attempt (retried after a backoff). At-least-once: a row may be handled twice when a
 * replica dies or stalls mid-handler, so a handler must be idempotent.
 */
export type RowHandler<O> = (row: StatusRow, ctx: HandlerContext<O>) => Promise<void>;

/** The validated settings of one status watcher (`watcher.<name>.*`). */
export type StatusSettings = StatusConfig & {
  readonly dryRun: boolean;
  /** Rows read and claimed per batch. */
  readonly batchSize: number;
};
