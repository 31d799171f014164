/**
 * The tables of the probe fixture's `probe-rows` status watcher, and what the tests read from them:
 * `probe_rows` (the business table), `probe_calls` (one row per handler call, written by the
 * handler) and `probe_transitions` (one row per status change, written by a trigger); and the config
 * of a replica that runs only `probe-rows`.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { ClusterConfig, WatcherKeys } from './cluster.js';
import { serverOptions } from './mysql.js';

/** Creates the three tables and the trigger. */
export async function createProbeTables(pool: Pool): Promise<void> {
  await pool.query(
    "CREATE TABLE probe_rows (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL DEFAULT 'pending', createdAt TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), KEY (status, id))",
  );
  await pool.query(
    'CREATE TABLE probe_calls (n INT AUTO_INCREMENT PRIMARY KEY, rowId INT NOT NULL, instance VARCHAR(64) NOT NULL, attempt INT NOT NULL, at TIMESTAMP(3) NOT NULL, KEY (rowId))',
  );
  await pool.query(
    'CREATE TABLE probe_transitions (n INT AUTO_INCREMENT PRIMARY KEY, rowId INT NOT NULL, fromStatus VARCHAR(16), toStatus VARCHAR(16), KEY (rowId))',
  );
  await pool.query(
    'CREATE TRIGGER probe_rows_moved AFTER UPDATE ON probe_rows FOR EACH ROW ' +
      'INSERT INTO probe_transitions (rowId, fromStatus, toStatus) SELECT NEW.id, OLD.status, NEW.status FROM DUAL WHERE NOT (OLD.status <=> NEW.status)',
  );
}

/** Inserts pending rows `from`..`to`. */
export async function insertRows(pool: Pool, from: number, to: number): Promise<void> {
  for (let a = from; a <= to; a += 5000) {
    const ids = Array.from({ length: Math.min(5000, to - a + 1) }, (_, i) => [a + i]);
    await pool.query('INSERT INTO probe_rows (id) VALUES ?', [ids]);
  }
}

/** The first column of the first row of a query, as a number. */
export async function count(pool: Pool, sql: string): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(sql);
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}

/** What the tables say about `rows` rows: transitions, states, calls. */
export interface RowsReport {
  readonly normal: number;
  readonly pending: number;
  /** Status changes in all; `rows` when every row moved once. */
  readonly transitions: number;
  /** Rows that changed status more than once, or not from pending to normal. */
  readonly badTransitions: number;
  /** Rows handled more than once, and the most calls of one row. */
  readonly calledTwice: number;
  readonly mostCalls: number;
}

/** Reads the {@link RowsReport}. */
export async function rowsReport(pool: Pool): Promise<RowsReport> {
  const [multi] = await pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS rowsN, COALESCE(MAX(n), 0) AS most FROM (SELECT COUNT(*) AS n FROM probe_calls GROUP BY rowId HAVING n > 1) x',
  );
  return {
    normal: await count(pool, "SELECT COUNT(*) FROM probe_rows WHERE status = 'normal'"),
    pending: await count(pool, "SELECT COUNT(*) FROM probe_rows WHERE status = 'pending'"),
    transitions: await count(pool, 'SELECT COUNT(*) FROM probe_transitions'),
    badTransitions: await count(
      pool,
      "SELECT COUNT(*) FROM (SELECT rowId FROM probe_transitions GROUP BY rowId HAVING COUNT(*) > 1 OR SUM(fromStatus <> 'pending' OR toStatus <> 'normal') > 0) x",
    ),
    calledTwice: Number(multi[0]?.rowsN ?? 0),
    mostCalls: Number(multi[0]?.most ?? 0),
  };
}

/** A config of one replica running only probe-rows on `db`. */
export function rowsConfig(name: string, prefix: string, db: string, keys: WatcherKeys): ClusterConfig {
  const s = serverOptions();
  return {
    instanceId: name,
    keyPrefix: prefix,
    logLevel: 'info',
    shutdownTimeout: '5s',
    mysql: {
      host: s.host ?? '127.0.0.1',
      port: s.port ?? 3306,
      user: s.user ?? 'root',
      password: s.password ?? '',
      database: db,
    },
    watchers: { 'probe-rows': keys },
  };
}
