/**
 * The shipped least privileges (`deploy/mysql-grants.sql`) are enough for every watcher and no more:
 * each watcher runs once as an account with exactly those grants (root only creates the database,
 * the account and the rows), and statements beyond the grants are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { taskWatcher } from '../../internal/watcher/watcher/task/watcher.js';
import { cleanWatcher } from '../../internal/watcher/watcher/clean/watcher.js';
import { cleanSecretWatcher } from '../../internal/watcher/watcher/cleansecret/watcher.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { createRestrictedUser, type RestrictedUser } from '../helpers/grants.js';
import { runTestWatcher } from '../helpers/watcher-run.js';

const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);

async function count(pool: Pool, sql: string): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(sql);
  return Number(rows[0]?.['n']);
}

void describe('the watchers as the least-privilege account of deploy/mysql-grants.sql', () => {
  let db: TestDatabase;
  let account: RestrictedUser;
  let pool: Pool;

  before(async () => {
    db = await createTestDatabase({ nowSeconds: NOW });
    const root = db.pool;
    await root.query(
      `INSERT INTO user (name, nickname, password, email, isAdmin, loginedAt, createdAt) VALUES
       ('active', 'a', 'x', 'a@example.com', 0, FROM_UNIXTIME(?), FROM_UNIXTIME(?)),
       ('idle', 'i', 'x', 'i@example.com', 0, FROM_UNIXTIME(?), FROM_UNIXTIME(?)),
       ('admin', 'd', 'x', 'd@example.com', 1, NULL, FROM_UNIXTIME(?))`,
      [NOW - DAY, NOW - 400 * DAY, NOW - 100 * DAY, NOW - 400 * DAY, NOW - 400 * DAY],
    );
    await root.query(
      `INSERT INTO policy_audit (id, name, username, policyShadow, deletedAt) VALUES
       (1, 'old', 'active', '{}', FROM_UNIXTIME(?)), (2, 'new', 'active', '{}', FROM_UNIXTIME(?))`,
      [NOW - 400 * DAY, NOW - DAY],
    );
    await root.query(
      `INSERT INTO secret (name, username, secretID, secretKey, expires, description) VALUES
       ('expired', 'active', 'id1', 'k1', ?, ''), ('valid', 'active', 'id2', 'k2', ?, '')`,
      [NOW - 30 * DAY, NOW + 30 * DAY],
    );
    account = await createRestrictedUser(db.name);
    pool = account.pool({ nowSeconds: NOW });
  });
  after(async () => {
    await account?.drop();
    await db?.drop();
  });

  void it('task disables the inactive user', async () => {
    const counts = await runTestWatcher(taskWatcher, pool, { options: { maxInactiveDays: 90 } }).result;
    assert.equal(counts['disabled'], 1);
    assert.equal(await count(db.pool, "SELECT status AS n FROM user WHERE name = 'idle'"), 0);
    assert.equal(await count(db.pool, "SELECT status AS n FROM user WHERE name = 'admin'"), 1);
  });

  void it('clean deletes the old audit row', async () => {
    const counts = await runTestWatcher(cleanWatcher, pool, { options: { maxReserveDays: 180 } }).result;
    assert.equal(counts['deleted'], 1);
    assert.equal(await count(db.pool, 'SELECT COUNT(*) AS n FROM policy_audit'), 1);
  });

  void it('cleansecret deletes the expired secret', async () => {
    const counts = await runTestWatcher(cleanSecretWatcher, pool, { options: { maxExpiredDays: 7 } }).result;
    assert.equal(counts['deleted'], 1);
    assert.equal(await count(db.pool, "SELECT COUNT(*) AS n FROM secret WHERE name = 'valid'"), 1);
  });

  void it('refuses everything beyond the grants', async () => {
    const refused: Array<[sql: string, code: string]> = [
      ["UPDATE user SET email = 'x@example.com'", 'ER_COLUMNACCESS_DENIED_ERROR'],
      ["UPDATE user SET isAdmin = 1 WHERE name = 'active'", 'ER_COLUMNACCESS_DENIED_ERROR'],
      ['DELETE FROM user', 'ER_TABLEACCESS_DENIED_ERROR'],
      [
        "INSERT INTO secret (name, username, secretID, secretKey, description) VALUES ('n', 'u', 'i', 'k', '')",
        'ER_TABLEACCESS_DENIED_ERROR',
      ],
      ['UPDATE secret SET expires = 0', 'ER_TABLEACCESS_DENIED_ERROR'],
      ['SELECT * FROM policy', 'ER_TABLEACCESS_DENIED_ERROR'],
      ['DROP TABLE policy_audit', 'ER_TABLEACCESS_DENIED_ERROR'],
      ['CREATE TABLE t (id int)', 'ER_TABLEACCESS_DENIED_ERROR'],
    ];
    for (const [sql, code] of refused) {
      await assert.rejects(pool.query(sql), (err: { code?: string }) => {
        assert.equal(err.code, code, sql);
        return true;
      });
    }
    const [grants] = await pool.query<RowDataPacket[]>('SHOW GRANTS');
    const text = grants.map((r) => String(Object.values(r)[0])).join('\n');
    assert.doesNotMatch(text, /ALL PRIVILEGES|GRANT OPTION|\bINSERT\b|\bCREATE\b|\bDROP\b/, text);
  });
});
