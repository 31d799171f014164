/**
 * A fresh IAM database per test run: `iamw_test_<random>` on the MariaDB at 127.0.0.1:3306 (override
 * with MYSQL_TEST_HOST, MYSQL_TEST_PORT, MYSQL_TEST_USER, MYSQL_TEST_PASSWORD), loaded with
 * deploy/sql/iam-schema.sql, dropped by `drop()`.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { Pool, PoolOptions, RowDataPacket } from 'mysql2/promise';

const SCHEMA = fileURLToPath(new URL('../../deploy/sql/iam-schema.sql', import.meta.url));

/** Connection settings for the test server, from the environment. */
export function serverOptions(): PoolOptions {
  return {
    host: process.env['MYSQL_TEST_HOST'] ?? '127.0.0.1',
    port: Number(process.env['MYSQL_TEST_PORT'] ?? 3306),
    user: process.env['MYSQL_TEST_USER'] ?? 'root',
    password: process.env['MYSQL_TEST_PASSWORD'] ?? '',
  };
}

/** How a pool's sessions are set up. */
export interface SessionOptions {
  /** Freeze the database clock (`SET timestamp`) at these Unix seconds: NOW() returns it. */
  readonly nowSeconds?: number;
  /** Session `time_zone`. @defaultValue '+00:00' */
  readonly timeZone?: string;
  /** mysql2's own `timezone` option. @defaultValue 'Z' */
  readonly driverTimeZone?: string;
  readonly connectionLimit?: number;
}

/**
 * A pool on `database` (as the test server's admin, or as `login`). Every new connection first sets
 * the session time zone and, if asked, the frozen clock; mysql2 runs a connection's commands in
 * order, so they precede every query.
 */
export function createPool(
  database: string,
  session: SessionOptions = {},
  login?: { readonly user: string; readonly password: string },
): Pool {
  const pool = mysql.createPool({
    ...serverOptions(),
    ...login,
    database,
    timezone: session.driverTimeZone ?? 'Z',
    connectionLimit: session.connectionLimit ?? 4,
    multipleStatements: true,
  });
  const setup = [mysql.format('SET time_zone = ?', [session.timeZone ?? '+00:00'])];
  if (session.nowSeconds !== undefined) setup.push(mysql.format('SET timestamp = ?', [session.nowSeconds]));
  pool.pool.on('connection', (conn) => {
    for (const sql of setup) {
      conn.query(sql, (err) => {
        if (err) conn.destroy();
      });
    }
  });
  return pool;
}

/** A test database and a pool on it. */
export interface TestDatabase {
  readonly name: string;
  readonly pool: Pool;
  /** Closes the pool and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

/** Creates `iamw_test_<random>` with the IAM schema (tables and the policy trigger). */
export async function createTestDatabase(session: SessionOptions = {}): Promise<TestDatabase> {
  const name = `iamw_test_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection({ ...serverOptions(), multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` DEFAULT CHARACTER SET utf8`);
    await admin.query(`USE \`${name}\``);
    await admin.query(await readFile(SCHEMA, 'utf8'));
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
    throw err;
  } finally {
    await admin.end();
  }
  const pool = createPool(name, session);
  let dropped: Promise<void> | undefined;
  return {
    name,
    pool,
    drop() {
      dropped ??= (async () => {
        await pool.end().catch(() => undefined);
        const conn = await mysql.createConnection(serverOptions());
        try {
          await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
        } finally {
          await conn.end();
        }
      })();
      return dropped;
    },
  };
}

/** The database clock, as Unix seconds. */
export async function dbNowSeconds(pool: Pool): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
  return Number(rows[0]?.['now']);
}
