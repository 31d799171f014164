/**
 * The second kind of watcher: instead of a schedule and a run, a table whose status column says
 * "to do", and a handler of one row. Declared like the others: one folder, `register()`, one line in
 * `all.ts`. The daemon's status recipe (`kit/status-worker.ts`) claims, handles and settles the rows.
 */
import type { OptionFields } from '../options/fields.js';
import type { RowHandler, StatusTable } from '../kit/status-spec.js';

export type { HandlerContext, RowHandler, StatusRow, StatusTable } from '../kit/status-spec.js';

/** A status watcher. `O` is the type of its own options (`watcher.<name>.*` beyond the common keys). */
export interface StatusWatcher<O extends object = Record<string, never>> {
  readonly kind: 'status';
  /** Unique name; also the config key `watcher.<name>`. Lower-case letters, digits and dashes. */
  readonly name: string;
  /** One sentence for `list` and the docs. */
  readonly description: string;
  /** Default for `watcher.<name>.enabled` (true when absent). */
  readonly enabledByDefault?: boolean;
  /** The watcher's own options with their defaults. */
  readonly options: OptionFields<O>;
  /** Called at start-up (and on reload) with the validated options; a place to say "off". */
  describe?(options: Readonly<O>): string | undefined;
  /** The table, its key and status columns, and the status values. */
  readonly table: StatusTable;
  /** Handles one row; must be idempotent (rows are handled at least once). */
  readonly handle: RowHandler<O>;
}

/** A status watcher with its option type erased, as the registry stores it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStatusWatcher = StatusWatcher<any>;

/** True for a status watcher (false for a scheduled one). */
export function isStatusWatcher(w: { readonly kind?: string }): w is AnyStatusWatcher {
  return w.kind === 'status';
}
