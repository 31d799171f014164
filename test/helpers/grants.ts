/**
 * A MySQL account with exactly the privileges of `deploy/mysql-grants.sql`, on one test database:
 * the file's GRANT statements are applied with the database and account names replaced, so a change
 * to the shipped grants changes what the tests run with. Root only creates the account.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { Pool } from 'mysql2/promise';
import { createPool, serverOptions, type SessionOptions } from './mysql.js';

const GRANTS = fileURLToPath(new URL('../../deploy/mysql-grants.sql', import.meta.url));

/** The account, a way to open pools as it, and its removal. */
export interface RestrictedUser {
  readonly user: string;
  readonly password: string;
  /** A pool on `database` logged in as this account (closed by {@link RestrictedUser.drop}). */
  pool(session?: SessionOptions): Pool;
  /** Closes its pools and drops the account. Safe to call twice. */
  drop(): Promise<void>;
}

/** The GRANT statements of the shipped file, for `database` and `'user'@'%'`. */
export async function shippedGrants(database: string, user: string): Promise<string[]> {
  const text = (await readFile(GRANTS, 'utf8'))
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n');
  const statements = text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (statements.length === 0 || !statements.every((s) => /^GRANT\s/i.test(s))) {
    throw new Error(`${GRANTS}: expected only GRANT statements`);
  }
  return statements.map((s) =>
    s.replaceAll('`iam`.', `\`${database}\`.`).replaceAll("'iam'@'%'", `'${user}'@'%'`),
  );
}

/** Creates `iamw_r_<random>`@`%` with the shipped grants on `database`. */
export async function createRestrictedUser(database: string): Promise<RestrictedUser> {
  const user = `iamw_r_${randomBytes(5).toString('hex')}`;
  const password = `Pw-${randomBytes(8).toString('hex')}`;
  const root = await mysql.createConnection(serverOptions());
  try {
    await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    for (const grant of await shippedGrants(database, user)) await root.query(grant);
  } catch (err) {
    await root.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
    throw err;
  } finally {
    await root.end();
  }
  const pools: Pool[] = [];
  let dropped: Promise<void> | undefined;
  return {
    user,
    password,
    pool(session = {}) {
      const p = createPool(database, session, { user, password });
      pools.push(p);
      return p;
    },
    drop() {
      dropped ??= (async () => {
        await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
        const conn = await mysql.createConnection(serverOptions());
        try {
          await conn.query(`DROP USER IF EXISTS '${user}'@'%'`);
        } finally {
          await conn.end();
        }
      })();
      return dropped;
    },
  };
}
