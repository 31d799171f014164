/**
 * The one way the kit makes a batch atomic: every connection of a run is a READ COMMITTED
 * {@link Session}, and on it each batch is one transaction.
 *
 * - A batch of one statement ({@link Session.statement}) runs alone in autocommit: atomic by itself,
 *   one round trip.
 * - A batch of several statements ({@link Session.transaction}) is one transaction of a chain:
 *   `START TRANSACTION` once per session, then the batch's statements and a `COMMIT AND CHAIN` that
 *   commits it and begins the next. A batch then costs its statements and one commit, no `BEGIN`
 *   round trip (on a loaded host each round trip took a millisecond, as long as a batch's update).
 *
 * Why READ COMMITTED: the watchers' filters are not indexed. Under REPEATABLE READ, `FOR UPDATE`,
 * `UPDATE` and `DELETE` lock every row they scan and the gaps between them (blocking the apiserver's
 * inserts at the end of the table); READ COMMITTED keeps locks only on the rows that match.
 *
 * How the level is set and put back, the same on MySQL 5.7, MySQL 8 and MariaDB:
 * - `SET SESSION TRANSACTION ISOLATION LEVEL ...` applies to every later transaction of the session,
 *   autocommit statements included, and may be sent inside a transaction (MySQL reference, "SET
 *   TRANSACTION Statement"; MariaDB KB, "SET TRANSACTION": the same for the SESSION form). The level
 *   without a keyword would cover only the next transaction: a round trip per autocommit batch.
 * - The previous level is read with `SHOW SESSION VARIABLES WHERE Variable_name IN (...)`, naming
 *   both spellings: MySQL removed `tx_isolation` in 8.0.3 (`transaction_isolation` exists from
 *   5.7.20), MariaDB has `tx_isolation` in every version and `transaction_isolation` from 11.1.
 *   SHOW lists the names the server has and skips the others, so no server sees an unknown variable
 *   (a `SELECT @@tx_isolation` fails on MySQL 8).
 * - {@link Session.end} puts that level back before the connection returns to the pool. After an
 *   error nothing is put back: the connection is destroyed (see `connections.ts`).
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** The server's spelling of each level (`READ-COMMITTED`) and the SQL one (`READ COMMITTED`). */
const LEVELS: Readonly<Record<string, string>> = {
  'READ-UNCOMMITTED': 'READ UNCOMMITTED',
  'READ-COMMITTED': 'READ COMMITTED',
  'REPEATABLE-READ': 'REPEATABLE READ',
  SERIALIZABLE: 'SERIALIZABLE',
};
/** The default of MySQL and MariaDB, for a server that reports none. */
const DEFAULT_LEVEL = 'REPEATABLE READ';

/** The statements a session sends, for tests that pin them. */
export const ISOLATION_SQL = {
  read: "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_isolation', 'tx_isolation')",
  set: (level: string) => `SET SESSION TRANSACTION ISOLATION LEVEL ${level}`,
} as const;

/** The session's isolation level in SQL spelling. */
async function sessionLevel(conn: PoolConnection): Promise<string> {
  const [rows] = await conn.query<RowDataPacket[]>(ISOLATION_SQL.read);
  for (const row of rows) {
    const level = LEVELS[String(row['Value'])];
    if (level !== undefined) return level;
  }
  return DEFAULT_LEVEL;
}

/** A connection of a run at READ COMMITTED, running one batch at a time; see the file comment. */
export class Session {
  readonly conn: PoolConnection;
  readonly #previous: string;
  /** A transaction of the chain is open (begun by `START TRANSACTION` or `COMMIT AND CHAIN`). */
  #open = false;

  private constructor(conn: PoolConnection, previous: string) {
    this.conn = conn;
    this.#previous = previous;
  }

  /** Sets `conn`'s session to READ COMMITTED, remembering its level for {@link end}. */
  static async begin(conn: PoolConnection): Promise<Session> {
    const previous = await sessionLevel(conn);
    await conn.query(ISOLATION_SQL.set('READ COMMITTED'));
    return new Session(conn, previous);
  }

  /** A batch of one statement: atomic on its own, one round trip (inside an open chain, committed). */
  async statement<T extends ResultSetHeader | RowDataPacket[]>(sql: string, params: unknown[]): Promise<T> {
    if (this.#open) return this.transaction(async (conn) => (await conn.query<T>(sql, params))[0]);
    const [result] = await this.conn.query<T>(sql, params);
    return result;
  }

  /**
   * A batch of several statements as one transaction: committed when `fn` resolves, rolled back when
   * it throws (the next batch then begins afresh; a deadlock has already ended it on the server).
   */
  async transaction<T>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    if (!this.#open) {
      await this.conn.query('START TRANSACTION');
      this.#open = true;
    }
    let result: T;
    try {
      result = await fn(this.conn);
    } catch (err) {
      this.#open = false;
      try {
        await this.conn.query('ROLLBACK');
      } catch {
        // The original error matters more; the run destroys this connection anyway.
      }
      throw err;
    }
    this.#open = false;
    await this.conn.query('COMMIT AND CHAIN');
    this.#open = true;
    return result;
  }

  /** Ends the chain (its last transaction is empty) and puts the session's level back. */
  async end(): Promise<void> {
    if (this.#open) {
      this.#open = false;
      await this.conn.query('COMMIT');
    }
    await this.conn.query(ISOLATION_SQL.set(this.#previous));
  }
}
