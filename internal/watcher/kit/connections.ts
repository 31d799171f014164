/**
 * The connections of one run, taken from the pool and always given back: released after success,
 * destroyed after an error (they may still be inside a transaction, or at READ COMMITTED).
 *
 * A run takes its first connection as any caller would, and the others only when the pool yields
 * them within a second (never more than the pool's limit, which the caller passes in from config:
 * `mysql.max-open-connections`). So watchers that start together on a small pool never hold one
 * connection each while waiting for a second one: a run always goes on, with fewer lanes if need be.
 */
import type { Pool, PoolConnection } from 'mysql2/promise';
import { readDbClock, type DbClock } from './db-clock.js';
import type { KitRun } from './run.js';
import { Session } from './transaction.js';

/** Connections of one run, at least one. */
export type Connections = readonly [PoolConnection, ...PoolConnection[]];

/** Sessions of one run, at least one. */
export type Sessions = readonly [Session, ...Session[]];

/** How many connections a run asks for. */
export interface ConnectionRequest {
  /** Most the run can use. */
  readonly most: number;
  /** Most the pool lends (`mysql.max-open-connections`). */
  readonly limit: number;
}

/** How long a run waits for each connection beyond its first before it goes on with fewer. */
const SPARE_CONNECTION_WAIT_MS = 1000;

/**
 * Runs `fn` with one connection of the pool. On success the connection goes back to the pool; after
 * an error it is destroyed instead.
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

/** Runs `fn` with up to `most` (and at most `limit`) connections of the pool; see the file comment. */
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
 * Runs `fn` with up to `most` READ COMMITTED sessions of the run's pool (see `transaction.ts`) and
 * the database's clock, read once on the first. The sessions' levels are put back afterwards.
 */
export async function withSessions<T>(
  run: KitRun,
  most: number,
  fn: (sessions: Sessions, clock: DbClock) => Promise<T>,
): Promise<T> {
  return withConnections(run.db, { most, limit: run.dbConnectionLimit }, async ([first, ...more]) => {
    const [clock, session, ...others] = await Promise.all([
      readDbClock(first),
      Session.begin(first),
      ...more.map((conn) => Session.begin(conn)),
    ]);
    const sessions: Sessions = [session, ...others];
    const result = await fn(sessions, clock);
    await Promise.all(sessions.map((s) => s.end()));
    return result;
  });
}
