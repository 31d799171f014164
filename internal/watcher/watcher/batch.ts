/**
 * Primary-key-range batching shared by the IAM watchers.
 *
 * A run walks a table in ranges of its primary key and applies short, atomic batches (one statement
 * or one transaction, changing at most `batchSize` rows) to each range. Why ranges of the key and not
 * `... ORDER BY id LIMIT n` on the predicate: the IAM tables have no index on the columns the
 * watchers filter on (`loginedAt`, `deletedAt`, `expires`), so a `LIMIT` loop rescans the table from
 * its start for every batch (quadratic), and a single set-based statement holds its row locks for
 * seconds. Each statement reads only its range, so a run reads the table about once.
 *
 * Ranges are spans of id values, not counts of rows: ids are unique integers, so a span of `w` ids
 * never holds more than `w` rows, and finding its end costs nothing. (Finding "the next n rows" with
 * `LIMIT 1 OFFSET n` reads every row twice: measured at a million rows it added 40% to a run.) Where
 * ids are sparse (`policy_audit` ids are the ids of deleted policies) a range that matched nothing
 * jumps to the next existing id, and empty stretches widen the ranges (see {@link nextSpan}).
 */
import type { Logger } from 'pino';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';

/** A primary-key value as mysql2 returns it: a number, or a string with big-number options. */
export type RowId = number | string;

/** A range of primary-key values, `from <= id < to`. */
export interface KeyRange {
  readonly from: bigint;
  readonly to: bigint;
}

/** SQL condition (for column `id`) and its parameters selecting the rows of a range. */
export function rangeCondition(range: KeyRange): { sql: string; params: bigint[] } {
  return { sql: '`id` >= ? AND `id` < ?', params: [range.from, range.to] };
}

function toId(value: unknown): bigint | undefined {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint'
    ? BigInt(value)
    : undefined;
}

/** The first and last id of `table` (a constant, trusted name), or undefined when it is empty. */
async function tableBounds(
  conn: PoolConnection,
  table: string,
): Promise<{ lo: bigint; hi: bigint } | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT MIN(`id`) AS lo, MAX(`id`) AS hi FROM ??', [
    table,
  ]);
  const lo = toId(rows[0]?.['lo']);
  const hi = toId(rows[0]?.['hi']);
  return lo === undefined || hi === undefined ? undefined : { lo, hi };
}

/** The first id at or after `from` (and not after `hi`): one index seek over a gap of any size. */
async function nextId(
  conn: PoolConnection,
  table: string,
  from: bigint,
  hi: bigint,
): Promise<bigint | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT MIN(`id`) AS id FROM ?? WHERE `id` >= ? AND `id` <= ?',
    [table, from, hi],
  );
  return toId(rows[0]?.['id']);
}

/** A range never spans more ids (so rows) than this many batch sizes: it bounds one statement's scan. */
const MAX_SPAN_FACTOR = 16;
/** Aim a little under the limit, so a range rarely needs a second pass. */
const TARGET_FILL = 0.8;

/**
 * The number of ids the next range should span so that about `batchSize` of its rows match, judging
 * by the range just done: sparse matches or sparse ids (a second run, a clean table) widen the
 * ranges, dense ones narrow them, within [batchSize, MAX_SPAN_FACTOR * batchSize].
 */
export function nextSpan(span: number, matched: number, batchSize: number): number {
  const want = matched === 0 ? span * 2 : Math.floor((span * batchSize * TARGET_FILL) / matched);
  return Math.min(MAX_SPAN_FACTOR * batchSize, Math.max(batchSize, want));
}

/** What {@link forEachKeyRange} needs. */
export interface KeyRangeLoop {
  readonly conn: PoolConnection;
  readonly table: string;
  /** Most rows one batch may change (and so lock). */
  readonly batchSize: number;
  /** A dry run changes nothing, so each range is read once, whole. */
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Applies one batch to the range, atomically: changes at most `limit` matching rows, the lowest
   * ids first (in a dry run `limit` is undefined: count them all). Returns the rows changed.
   */
  readonly each: (range: KeyRange, limit: number | undefined, batch: number) => Promise<number>;
}

/** Totals of a {@link forEachKeyRange} walk. */
export interface KeyRangeTotals {
  /** Rows changed (or that would change in a dry run). */
  readonly rows: number;
  /** Batches (transactions) run. */
  readonly batches: number;
}

/**
 * Runs `each` over the whole table, range by range, one batch at a time.
 *
 * Why ranges wider than a batch: a commit costs a log flush, so a batch per `batchSize` scanned rows
 * makes a run several times slower than the one-statement floor when few rows match. A range is
 * sized to hold about `batchSize` matching rows (see {@link nextSpan}); a batch still changes at most
 * `batchSize` rows, and a range with more is simply run again (the rows done no longer match).
 *
 * The signal is checked before every batch, never inside one: each batch is atomic, so an aborted
 * run leaves every row either done or untouched. On abort it logs the partial totals and throws
 * `signal.reason` (a DOMException named `AbortError` unless the aborter gave another reason), so the
 * scheduler records the run as aborted.
 */
export async function forEachKeyRange(loop: KeyRangeLoop): Promise<KeyRangeTotals> {
  const bounds = await tableBounds(loop.conn, loop.table);
  let rows = 0;
  let batches = 0;
  if (!bounds) return { rows, batches };
  const limit = loop.dryRun ? undefined : loop.batchSize;
  let span = loop.batchSize;
  let from: bigint | undefined = bounds.lo;
  // The walk ends at the largest id seen at the start: rows inserted during a run are new, so no
  // watcher would change them anyway.
  while (from !== undefined) {
    const end: bigint = from + BigInt(span);
    const range: KeyRange = { from, to: end <= bounds.hi ? end : bounds.hi + 1n };
    let matched = 0;
    for (;;) {
      if (loop.signal.aborted) {
        loop.logger.warn(
          { changedSoFar: rows + matched, batches },
          'run aborted between batches; finished batches stay',
        );
        loop.signal.throwIfAborted();
      }
      batches += 1;
      const n = await withLockRetry(() => loop.each(range, limit, batches), loop.logger);
      matched += n;
      if (limit === undefined || n < limit) break;
    }
    rows += matched;
    span = nextSpan(span, matched, loop.batchSize);
    if (range.to > bounds.hi) break;
    from = matched > 0 ? range.to : await nextId(loop.conn, loop.table, range.to, bounds.hi);
  }
  return { rows, batches };
}

/** MariaDB/MySQL errors after which the whole transaction was rolled back and may simply be retried. */
const RETRYABLE = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);
const ATTEMPTS = 3;

function errno(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}

/** Retries a batch that lost a deadlock or lock wait to the apiserver's own writes. */
async function withLockRetry<T>(fn: () => Promise<T>, logger: Logger): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = errno(err);
      if (code === undefined || !RETRYABLE.has(code) || attempt >= ATTEMPTS) throw err;
      logger.warn({ errno: code, attempt }, 'batch lost a lock conflict; retrying it');
    }
  }
}

/**
 * Runs `fn` in one READ COMMITTED transaction. READ COMMITTED because the filters are not indexed:
 * under REPEATABLE READ, `FOR UPDATE`, `UPDATE` and `DELETE` would lock every row they scan and the
 * gaps between them (blocking the apiserver's inserts at the end of the table), where READ COMMITTED
 * keeps locks only on the rows that match.
 */
export async function inTransaction<T>(conn: PoolConnection, fn: () => Promise<T>): Promise<T> {
  await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
  await conn.beginTransaction();
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    try {
      await conn.rollback();
    } catch {
      // The original error matters more; withConnection destroys this connection anyway.
    }
    throw err;
  }
  await conn.commit();
  return result;
}

/**
 * Runs `fn` with one connection of the pool. On success the connection goes back to the pool; after
 * an error it is destroyed instead, since it may still be inside a transaction.
 */
export async function withConnection<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  let result: T;
  try {
    result = await fn(conn);
  } catch (err) {
    conn.destroy();
    throw err;
  }
  conn.release();
  return result;
}

/**
 * The cutoff `days` days before the database's clock, as Unix seconds. Unix seconds, not
 * `NOW() - INTERVAL n DAY`: the watchers compare with `UNIX_TIMESTAMP(column)`, which reads a
 * TIMESTAMP's stored UTC value, so neither the session `time_zone` nor the daemon's `TZ` can shift a
 * result, and no daylight-saving day is 23 or 25 hours long.
 */
export async function cutoffSeconds(conn: PoolConnection, days: number): Promise<number> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
  const now = Number(rows[0]?.['now']);
  if (!Number.isSafeInteger(now))
    throw new Error(`database returned no usable UNIX_TIMESTAMP(): ${String(now)}`);
  return now - days * 86_400;
}
