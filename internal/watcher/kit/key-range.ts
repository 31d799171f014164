/**
 * Ranges of a table's integer primary key, and the walk that hands them out.
 *
 * Why ranges of the key and not `... ORDER BY id LIMIT n` on the predicate: the IAM tables have no
 * index on the columns the watchers filter on (`loginedAt`, `deletedAt`, `expires`), so a `LIMIT`
 * loop rescans the table from its start for every batch (quadratic), and a single set-based
 * statement holds its row locks for seconds. Each statement reads only its range, so a run reads the
 * table about once.
 *
 * Ranges are spans of key values, not counts of rows: keys are unique integers, so a span of `w` keys
 * never holds more than `w` rows, and finding its end costs nothing. (Finding "the next n rows" with
 * `LIMIT 1 OFFSET n` reads every row twice: measured at a million rows it added 40% to a run.) Where
 * keys are sparse (`policy_audit` ids are the ids of deleted policies) a range that matched nothing
 * jumps to the next existing key, and empty stretches widen the ranges (see {@link nextSpan}).
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';

/** A primary-key value as mysql2 returns it: a number, or a string with big-number options. */
export type RowId = number | string;

/** A range of primary-key values, `from <= key < to`. */
export interface KeyRange {
  readonly from: bigint;
  readonly to: bigint;
}

/** A table and its integer primary key (constant, trusted names). */
export interface KeyedTable {
  readonly table: string;
  /** @defaultValue 'id' */
  readonly key?: string;
}

/** SQL condition on `key` (a constant, trusted name) and its parameters selecting a range's rows. */
export function rangeCondition(range: KeyRange, key = 'id'): { sql: string; params: bigint[] } {
  return { sql: `\`${key}\` >= ? AND \`${key}\` < ?`, params: [range.from, range.to] };
}

/** The number of keys a range spans: the most rows it can hold. */
export function spanOf(range: KeyRange): number {
  return Number(range.to - range.from);
}

/** A primary-key value as a bigint, or undefined for NULL (e.g. `MIN(id)` of an empty table). */
export function toId(value: unknown): bigint | undefined {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint'
    ? BigInt(value)
    : undefined;
}

interface Bounds {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** The first and last key of the table, or undefined when it is empty. */
async function tableBounds(conn: PoolConnection, t: Required<KeyedTable>): Promise<Bounds | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT MIN(??) AS lo, MAX(??) AS hi FROM ??', [
    t.key,
    t.key,
    t.table,
  ]);
  const lo = toId(rows[0]?.['lo']);
  const hi = toId(rows[0]?.['hi']);
  return lo === undefined || hi === undefined ? undefined : { lo, hi };
}

/** The first key at or after `from` (and not after `hi`): one index seek over a gap of any size. */
async function nextKey(
  conn: PoolConnection,
  t: Required<KeyedTable>,
  from: bigint,
  hi: bigint,
): Promise<bigint | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT MIN(??) AS id FROM ?? WHERE ?? >= ? AND ?? <= ?', [
    t.key,
    t.table,
    t.key,
    from,
    t.key,
    hi,
  ]);
  return toId(rows[0]?.['id']);
}

/** A range never spans more keys (so rows) than this many batch sizes: it bounds one statement's scan. */
const MAX_SPAN_FACTOR = 16;
/** Aim a little under the limit, so a range rarely needs a second pass. */
const TARGET_FILL = 0.8;

/**
 * The number of keys the next range should span so that about `batchSize` of its rows match, judging
 * by the range just done: sparse matches or sparse keys (a second run, a clean table) widen the
 * ranges, dense ones narrow them, within [batchSize, MAX_SPAN_FACTOR * batchSize].
 */
export function nextSpan(span: number, matched: number, batchSize: number): number {
  const want = matched === 0 ? span * 2 : Math.floor((span * batchSize * TARGET_FILL) / matched);
  return Math.min(MAX_SPAN_FACTOR * batchSize, Math.max(batchSize, want));
}

/**
 * The key ranges of one pass over a table, each sized by how many rows of the latest range finished
 * matched (see {@link nextSpan}; ranges may be handed out before earlier ones have finished). The
 * pass ends at the largest key seen when it starts: rows inserted during a run are new, so no watcher
 * would change them anyway. Every range starts after the one before, so a pass always ends.
 */
export class KeyRangeWalk {
  readonly #conn: PoolConnection;
  readonly #table: Required<KeyedTable>;
  readonly #batchSize: number;
  readonly #bounds: Bounds | undefined;
  #span: number;
  /** The latest range finished matched nothing: the next one may start after a gap of keys. */
  #seek = false;
  #range: KeyRange | undefined;
  #done = false;

  private constructor(
    conn: PoolConnection,
    table: Required<KeyedTable>,
    batchSize: number,
    bounds: Bounds | undefined,
  ) {
    this.#conn = conn;
    this.#table = table;
    this.#batchSize = batchSize;
    this.#bounds = bounds;
    this.#span = batchSize;
  }

  /** Starts a pass over the table. */
  static async start(conn: PoolConnection, table: KeyedTable, batchSize: number): Promise<KeyRangeWalk> {
    const t = { table: table.table, key: table.key ?? 'id' };
    return new KeyRangeWalk(conn, t, batchSize, await tableBounds(conn, t));
  }

  /** Reports how many rows of a finished range matched: it sizes the ranges handed out next. */
  record(range: KeyRange, matched: number): void {
    this.#span = nextSpan(spanOf(range), matched, this.#batchSize);
    this.#seek = matched === 0;
  }

  /**
   * The next range, or undefined when the pass is over. A seek over a gap of keys runs on `conn` (the
   * walk's own connection unless given).
   */
  async next(conn: PoolConnection = this.#conn): Promise<KeyRange | undefined> {
    const bounds = this.#bounds;
    if (bounds === undefined || this.#done) return undefined;
    let from: bigint | undefined = bounds.lo;
    if (this.#range !== undefined) {
      const after = this.#range.to;
      if (after > bounds.hi) from = undefined;
      else if (!this.#seek) from = after;
      // After a range that matched nothing there may be a long gap of keys (policy_audit): jump it.
      // Only keys that do not exist are skipped, so the ranges still cover every row.
      else from = await nextKey(conn, this.#table, after, bounds.hi);
    }
    if (from === undefined) {
      this.#done = true;
      return undefined;
    }
    const end = from + BigInt(this.#span);
    this.#range = { from, to: end <= bounds.hi ? end : bounds.hi + 1n };
    return this.#range;
  }
}
