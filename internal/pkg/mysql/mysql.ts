/**
 * The MySQL/MariaDB pool (mysql2, promise API). Every session runs in UTC (`time_zone = '+00:00'`
 * and `timezone: 'Z'`), so the daemon's own TZ never changes what a watcher computes.
 */
import { readFileSync } from 'node:fs';
import mysql, { type Pool, type SslOptions } from 'mysql2/promise';
import type { Logger } from 'pino';
import { splitHostPort } from '../net/host-port.js';
import { waitReady } from '../retry/wait-ready.js';

export type { Pool } from 'mysql2/promise';

export interface MySQLOptions {
  /** `host:port` (port 3306 when absent), as the Go original's `mysql.host`. */
  readonly host: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly maxIdleConnections: number;
  readonly maxOpenConnections: number;
  /** mysql2 has no connection life time; idle connections are closed after this. */
  readonly maxConnectionLifeTimeMs: number;
  /** Per-connect timeout. */
  readonly connectTimeoutMs?: number;
  /** TLS; absent or `enabled: false` connects in plain text. */
  readonly tls?: MySQLTlsOptions;
}

/** TLS settings: PEM file paths (empty = not set), read by {@link sslOptions}. */
export interface MySQLTlsOptions {
  readonly enabled: boolean;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Accept any server certificate (and host name). */
  readonly insecureSkipVerify: boolean;
}

/** A TLS file that could not be read; `option` names the setting (`caFile`, `certFile`, `keyFile`). */
export class MySQLTlsFileError extends Error {
  override readonly name = 'MySQLTlsFileError';
  constructor(
    readonly option: 'caFile' | 'certFile' | 'keyFile',
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    const code = (options?.cause as NodeJS.ErrnoException | undefined)?.code ?? 'unreadable';
    super(`cannot read ${path} (${code})`, options);
  }
}

/**
 * mysql2's `ssl` option from the TLS settings, reading the files now (once, at pool creation).
 * @returns undefined when TLS is off. @throws MySQLTlsFileError naming the file that cannot be read.
 */
export function sslOptions(
  tls: MySQLTlsOptions | undefined,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): SslOptions | undefined {
  if (!tls?.enabled) return undefined;
  const load = (option: 'caFile' | 'certFile' | 'keyFile'): string | undefined => {
    const path = tls[option];
    if (path === '') return undefined;
    try {
      return read(path);
    } catch (err) {
      throw new MySQLTlsFileError(option, path, { cause: err });
    }
  };
  const ca = load('caFile');
  const cert = load('certFile');
  const key = load('keyFile');
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    rejectUnauthorized: !tls.insecureSkipVerify,
  };
}

/** Creates the pool. Connects lazily: call {@link waitMySQL} to wait for the server. */
export function createMySQLPool(o: MySQLOptions): Pool {
  const { host, port } = splitHostPort(o.host, 3306);
  const ssl = sslOptions(o.tls);
  const pool = mysql.createPool({
    ...(ssl === undefined ? {} : { ssl }),
    host,
    port,
    user: o.username,
    password: o.password,
    database: o.database,
    connectionLimit: o.maxOpenConnections,
    maxIdle: Math.min(o.maxIdleConnections, o.maxOpenConnections),
    idleTimeout: o.maxConnectionLifeTimeMs,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    waitForConnections: true,
    queueLimit: 0,
  });
  // The callback pool's event hands the raw connection; queries on it run before any of ours.
  pool.pool.on('connection', (conn) => {
    conn.query("SET time_zone = '+00:00'");
  });
  return pool;
}

/** Waits until the server answers `SELECT 1`, up to `timeoutMs`, logging each retry. */
export async function waitMySQL(
  pool: Pool,
  target: string,
  timeoutMs: number,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  await waitReady({
    target: `mysql ${target}`,
    timeoutMs,
    logger,
    signal,
    attempt: async () => {
      await pool.query('SELECT 1');
    },
  });
}
