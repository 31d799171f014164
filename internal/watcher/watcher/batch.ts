/**
 * Primary-key-range batching shared by the IAM watchers.
 *
 * A run walks a table in ranges of its primary key and applies short, atomic batches (one statement
 * or one transaction, changing at most `batchSize` rows) to each range ({@link forEachKeyRange}; the
 * task watcher reads ranges with {@link KeyRangeWalk} and writes batches of its own, see
 * `task/disable.ts`). Why ranges of the key and not
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

/** A primary-key value as a bigint, or undefined for NULL (e.g. `MIN(id)` of an empty table). */
export function toId(value: unknown): bigint | undefined {
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

/**
 * The key ranges of one pass over a table, each sized by how many rows of the latest range finished
 * matched (see {@link nextSpan}; ranges may be handed out before earlier ones have finished, see
 * {@link forEachKeyRange}). The pass ends at the largest id seen when it starts: rows inserted during
 * a run are new, so no watcher would change them anyway.
 */
export class KeyRangeWalk {
  readonly #conn: PoolConnection;
  readonly #table: string;
  readonly #batchSize: number;
  readonly #bounds: { lo: bigint; hi: bigint } | undefined;
  #span: number;
  /** The latest range finished matched nothing: the next one may start after a gap of ids. */
  #seek = false;
  #range: KeyRange | undefined;
  #done = false;

  private constructor(
    conn: PoolConnection,
    table: string,
    batchSize: number,
    bounds?: { lo: bigint; hi: bigint },
  ) {
    this.#conn = conn;
    this.#table = table;
    this.#batchSize = batchSize;
    this.#bounds = bounds;
    this.#span = batchSize;
  }

  /** Starts a pass over `table` (a constant, trusted name). */
  static async start(conn: PoolConnection, table: string, batchSize: number): Promise<KeyRangeWalk> {
    return new KeyRangeWalk(conn, table, batchSize, await tableBounds(conn, table));
  }

  /** Reports how many rows of a finished range matched: it sizes the ranges handed out next. */
  record(range: KeyRange, matched: number): void {
    this.#span = nextSpan(Number(range.to - range.from), matched, this.#batchSize);
    this.#seek = matched === 0;
  }

  /**
   * The next range, or undefined when the pass is over. A seek over a gap of ids runs on `conn` (the
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
      // After a range that matched nothing there may be a long gap of ids (policy_audit): jump it.
      // Only ids that do not exist are skipped, so the ranges still cover every row.
      else from = await nextId(conn, this.#table, after, bounds.hi);
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

/**
 * One batch in flight per lane: a connection (or a connection with what a batch needs beside it).
 * Batches on different lanes touch different rows (ids of different ranges or batches), so they
 * never wait for each other's locks; running two at once lets one lane's statement use the
 * database's second core while the other's commits or travels. Each batch stays as short and atomic
 * as alone, so at most `lanes` batches' rows are locked at once.
 */
export class Lanes<T> {
  readonly #lanes: readonly [T, ...T[]];
  readonly #busy: Array<Promise<void> | undefined>;
  #failure: { readonly error: unknown } | undefined;

  constructor(lanes: readonly [T, ...T[]]) {
    this.#lanes = lanes;
    this.#busy = lanes.map(() => undefined);
  }

  /** The value of `lane`. */
  at(lane: number): T {
    if (lane < 0 || lane >= this.#lanes.length) throw new RangeError(`no lane ${lane}`);
    return this.#lanes[lane] as T;
  }

  /** Waits until a lane is free and returns it. Throws the first failure of any batch. */
  async free(): Promise<number> {
    for (;;) {
      this.#throwIfFailed();
      const lane = this.#busy.indexOf(undefined);
      if (lane >= 0) return lane;
      await Promise.race(this.#busy.filter((p) => p !== undefined));
    }
  }

  /** Starts `work` on `lane`, which must be free (see {@link free}). */
  start(lane: number, work: (value: T) => Promise<void>): void {
    if (this.#busy[lane] !== undefined) throw new Error(`lane ${lane} is busy`);
    const value = this.at(lane);
    this.#busy[lane] = Promise.resolve()
      .then(() => work(value))
      .then(undefined, (error: unknown) => {
        this.#failure ??= { error };
      })
      .then(() => {
        this.#busy[lane] = undefined;
      });
  }

  /** Waits for every batch in flight, then throws the first failure of any batch. */
  async drain(): Promise<void> {
    await this.settle();
    this.#throwIfFailed();
  }

  /** Waits for every batch in flight; never throws (for `finally` blocks). */
  async settle(): Promise<void> {
    for (;;) {
      const busy = this.#busy.filter((p) => p !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}

/** What {@link forEachKeyRange} needs. */
export interface KeyRangeLoop {
  /** One range in flight on each (see {@link Lanes}); the first also walks the table. */
  readonly conns: Connections;
  readonly table: string;
  /** Most rows one batch may change (and so lock). */
  readonly batchSize: number;
  /** A dry run changes nothing, so each range is read once, whole. */
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Applies one batch to the range on `conn`, atomically: changes at most `limit` matching rows, the
   * lowest ids first (in a dry run `limit` is undefined: count them all). Returns the rows changed.
   */
  readonly each: (
    conn: PoolConnection,
    range: KeyRange,
    limit: number | undefined,
    batch: number,
  ) => Promise<number>;
}

/** Totals of a {@link forEachKeyRange} walk. */
export interface KeyRangeTotals {
  /** Rows changed (or that would change in a dry run). */
  readonly rows: number;
  /** Batches (transactions) run. */
  readonly batches: number;
}

/**
 * Runs `each` over the whole table, range by range, one batch at a time on each connection.
 *
 * Why ranges wider than a batch: a batch per `batchSize` scanned rows makes a run several times
 * slower than the one-statement floor when few rows match. A range is sized to hold about
 * `batchSize` matching rows (see {@link nextSpan}); a batch still changes at most `batchSize` rows,
 * and a range with more is simply run again (the rows done no longer match).
 *
 * The signal is checked before every batch, never inside one: each batch is atomic, so an aborted
 * run leaves every row either done or untouched. On abort it lets the batches in flight finish,
 * logs the totals and throws `signal.reason` (a DOMException named `AbortError` unless the aborter
 * gave another reason), so the scheduler records the run as aborted.
 */
export async function forEachKeyRange(loop: KeyRangeLoop): Promise<KeyRangeTotals> {
  const lanes = new Lanes(loop.conns);
  const walk = await KeyRangeWalk.start(loop.conns[0], loop.table, loop.batchSize);
  const limit = loop.dryRun ? undefined : loop.batchSize;
  const totals = { rows: 0, batches: 0 };
  const runRange = async (conn: PoolConnection, range: KeyRange): Promise<void> => {
    let matched = 0;
    for (;;) {
      const batch = ++totals.batches;
      const n = await withLockRetry(() => loop.each(conn, range, limit, batch), loop.logger);
      matched += n;
      totals.rows += n;
      // A range with more rows is run again; after an abort the main loop stops the walk.
      if (limit === undefined || n < limit || loop.signal.aborted) break;
    }
    walk.record(range, matched);
  };
  try {
    for (;;) {
      const lane = await lanes.free();
      if (loop.signal.aborted) {
        await lanes.drain();
        throwIfAbortedBetweenBatches(loop.signal, loop.logger, totals.rows, totals.batches);
      }
      const range = await walk.next(lanes.at(lane));
      if (range === undefined) break;
      lanes.start(lane, (conn) => runRange(conn, range));
    }
    await lanes.drain();
  } finally {
    await lanes.settle();
  }
  return totals;
}

/**
 * The check a walk makes before every batch: on abort it logs the partial totals and throws
 * `signal.reason` (a DOMException named `AbortError` unless the aborter gave another reason), so the
 * scheduler records the run as aborted.
 */
export function throwIfAbortedBetweenBatches(
  signal: AbortSignal,
  logger: Logger,
  changedSoFar: number,
  batches: number,
): void {
  if (!signal.aborted) return;
  logger.warn({ changedSoFar, batches }, 'run aborted between batches; finished batches stay');
  signal.throwIfAborted();
}

/** MariaDB/MySQL errors after which the whole transaction was rolled back and may simply be retried. */
const RETRYABLE = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);
const ATTEMPTS = 3;

function errno(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}

/** Retries a batch that lost a deadlock or lock wait to the apiserver's own writes. */
export async function withLockRetry<T>(fn: () => Promise<T>, logger: Logger): Promise<T> {
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

const ISOLATION_LEVELS: Readonly<Record<string, string>> = {
  'READ-UNCOMMITTED': 'READ UNCOMMITTED',
  'READ-COMMITTED': 'READ COMMITTED',
  'REPEATABLE-READ': 'REPEATABLE READ',
  SERIALIZABLE: 'SERIALIZABLE',
};

/**
 * Runs `fn` with the sessions of `conns` at READ COMMITTED (see {@link inTransaction} for why), and
 * puts each session's previous level back afterwards. For watchers whose batches are single
 * statements: in autocommit mode each is its own atomic transaction, so a batch costs one round trip
 * instead of four (SET TRANSACTION, BEGIN, the statement, COMMIT). After an error the connections
 * are destroyed by {@link withConnections}, so nothing needs restoring then.
 */
export async function withReadCommittedSessions<T>(
  conns: readonly PoolConnection[],
  fn: () => Promise<T>,
): Promise<T> {
  const previous = await Promise.all(
    conns.map(async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT @@SESSION.tx_isolation AS level');
      await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      return ISOLATION_LEVELS[String(rows[0]?.['level'])] ?? 'REPEATABLE READ';
    }),
  );
  const result = await fn();
  await Promise.all(
    conns.map((conn, i) =>
      conn.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${previous[i] ?? 'REPEATABLE READ'}`),
    ),
  );
  return result;
}

/**
 * Consecutive short READ COMMITTED transactions on one connection, each begun by the commit of the
 * one before (`COMMIT AND CHAIN` keeps the isolation level). A batch then costs its own statements
 * and one commit: no `SET TRANSACTION` and `START TRANSACTION` round trips, which on a loaded host
 * took a millisecond each, as long as a batch's update. After a failed batch the chain is rolled back
 * and the next batch begins afresh (a deadlock has already ended the transaction on the server).
 * Call {@link TransactionChain.close} at the end; a connection whose chain failed to close must be
 * destroyed, as {@link withConnection} does after an error.
 */
export class TransactionChain {
  readonly #conn: PoolConnection;
  #open = false;

  constructor(conn: PoolConnection) {
    this.#conn = conn;
  }

  /** Runs `fn` as one transaction: committed when it resolves, rolled back when it throws. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.#open) {
      await this.#conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await this.#conn.query('START TRANSACTION');
      this.#open = true;
    }
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.#open = false;
      try {
        await this.#conn.query('ROLLBACK');
      } catch {
        // The original error matters more; withConnection destroys this connection anyway.
      }
      throw err;
    }
    this.#open = false;
    await this.#conn.query('COMMIT AND CHAIN');
    this.#open = true;
    return result;
  }

  /** Ends the chain (its last transaction is empty). Idempotent. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#conn.query('COMMIT');
  }
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

/** Connections of one run, at least one. */
export type Connections = readonly [PoolConnection, ...PoolConnection[]];

/**
 * Batches a watcher runs at once, each on its own connection (see {@link Lanes}). Two, for a
 * database on two cores: measured at a million rows (`make bench-watchers`, medians of 3), clean took
 * 0.98x the one-statement floor with two lanes where one took 1.20x; task, whose unlocked read pass
 * is then its longest part, 1.21x with two writers and 1.22x with one.
 */
export const LANES = 2;

/** How long a run waits for each connection beyond its first before it goes on with fewer. */
const SPARE_CONNECTION_WAIT_MS = 1000;

/**
 * A connection of the pool if one comes within `waitMs`, else undefined (and the one that comes
 * later goes straight back).
 */
async function spareConnection(pool: Pool, waitMs: number): Promise<PoolConnection | undefined> {
  const pending = pool.getConnection();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, waitMs, undefined);
  });
  try {
    const conn = await Promise.race([pending, late]);
    if (conn === undefined) {
      pending.then(
        (c) => c.release(),
        () => undefined,
      );
    }
    return conn;
  } catch {
    // The run goes on with the connections it has; its first connection reports a down database.
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** How many connections a run asks for. */
export interface ConnectionRequest {
  /** Most the run can use. */
  readonly most: number;
  /** Most the pool lends (`mysql.max-open-connections`). */
  readonly limit: number;
}

/**
 * Runs `fn` with up to `most` connections of the pool: the first waited for as any, the others only
 * when the pool yields them within a second (never more than its `limit`, passed in from config). So watchers that start
 * together on a small pool never hold one connection each while waiting for a second one: a run
 * always goes on, with fewer lanes if need be. Afterwards the connections go back to the pool, or are
 * destroyed after an error (see {@link withConnection}).
 */
export async function withConnections<T>(
  pool: Pool,
  request: ConnectionRequest,
  fn: (conns: Connections) => Promise<T>,
): Promise<T> {
  return withConnection(pool, async (first) => {
    const wanted = Math.max(0, Math.min(request.most, request.limit) - 1);
    const got = await Promise.all(
      Array.from({ length: wanted }, () => spareConnection(pool, SPARE_CONNECTION_WAIT_MS)),
    );
    const extra = got.filter((c): c is PoolConnection => c !== undefined);
    let result: T;
    try {
      result = await fn([first, ...extra]);
    } catch (err) {
      for (const conn of extra) conn.destroy();
      throw err;
    }
    for (const conn of extra) conn.release();
    return result;
  });
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
