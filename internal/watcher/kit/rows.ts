/**
 * What a recipe works on (a condition on a keyed table) and how it names the rows it changes in its
 * log lines.
 */
import type { RowDataPacket } from 'mysql2/promise';
import type { DbClock } from './db-clock.js';
import type { KeyedTable } from './key-range.js';

/** An SQL condition and its parameters, fixed for a run. */
export interface Filter {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** The rows of a table a recipe changes. */
export interface RowSelection extends KeyedTable {
  /** SQL condition (trusted text, `?` placeholders) the rows match. Need not be indexed. */
  readonly where: string;
  /**
   * The condition's parameters, computed once per run from the database's clock (use it for
   * cut-offs, not the daemon's clock or the run's slot).
   */
  readonly params: (clock: DbClock) => readonly unknown[];
  /** What the rows are, for log lines: `expired secrets`, `users`. */
  readonly rows: string;
}

/** How each changed row is named in the batch's log line (never a secret column). */
export interface RowNames {
  /** Columns the name is made of (constant, trusted names). */
  readonly columns: readonly string[];
  /** The log field that lists the names: `names`, `secrets`. */
  readonly field: string;
  readonly name: (row: RowDataPacket) => string;
}

/** The filter of a selection for a run on `clock`. */
export function filterOf(selection: RowSelection, clock: DbClock): Filter {
  return { sql: `(${selection.where})`, params: selection.params(clock) };
}

/** The select list of a selection's key and named columns. */
export function selectList(key: string, names?: RowNames): string {
  return [key, ...(names?.columns ?? [])].map((c) => `\`${c}\``).join(', ');
}

/** `users disabled`, or in a dry run `users would be disabled (dry run)`. */
export function batchMessage(rows: string, action: string, dryRun: boolean): string {
  return dryRun ? `${rows} would be ${action} (dry run)` : `${rows} ${action}`;
}
