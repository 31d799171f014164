/**
 * The cleansecret watcher against a real MariaDB with the IAM schema, on a frozen database clock.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { cleanSecretWatcher } from '../../internal/watcher/watcher/cleansecret/watcher.js';
import type { CleanSecretOptions } from '../../internal/watcher/watcher/cleansecret/watcher.js';
import { createTestDatabase } from '../helpers/mysql.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { runTestWatcher } from '../helpers/watcher-run.js';
import type { TestRunOptions } from '../helpers/watcher-run.js';

const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);
const KEEP = 7 * DAY;

const FIXTURE: [name: string, expires: number][] = [
  ['never', 0],
  ['future', NOW + 30 * DAY],
  ['now', NOW],
  ['just-past', NOW - 1],
  ['exactly-7d', NOW - KEEP],
  ['7d-minus-1s', NOW - KEEP + 1],
  ['7d-plus-1s', NOW - KEEP - 1],
  ['long-past', NOW - 400 * DAY],
  ['epoch-plus-1', 1],
];

async function secretNames(pool: Pool): Promise<string[]> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT name FROM secret ORDER BY name');
  return rows.map((r) => r['name'] as string);
}

function run(pool: Pool, o: TestRunOptions<CleanSecretOptions> = {}) {
  return runTestWatcher(cleanSecretWatcher, pool, o);
}

function loggedSecrets(logs: Record<string, unknown>[]): string[] {
  return logs.flatMap((l) => (Array.isArray(l['secrets']) ? (l['secrets'] as string[]) : [])).sort();
}

function without(names: string[]): string[] {
  return FIXTURE.map(([n]) => n)
    .filter((n) => !names.includes(n))
    .sort();
}

const EXPIRED_7D = ['7d-plus-1s', 'epoch-plus-1', 'long-past'];

void describe('cleansecret watcher', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ nowSeconds: NOW });
    await db.pool.query(
      `INSERT INTO user (name, nickname, password, email) VALUES ('owner', 'owner', 'x', 'o@example.com')`,
    );
  });
  after(() => db.drop());
  beforeEach(async () => {
    await db.pool.query('DELETE FROM secret');
    for (const [name, expires] of FIXTURE) {
      await db.pool.query(
        `INSERT INTO secret (name, username, secretID, secretKey, expires, description)
         VALUES (?, 'owner', ?, 'very-secret-key', ?, '')`,
        [name, `id-${name}`, expires],
      );
    }
  });

  void it('is off by default: it deletes credentials', () => {
    assert.equal(cleanSecretWatcher.enabledByDefault, false);
  });

  void it('deletes secrets expired more than max-expired-days ago and logs them without keys', async () => {
    const { result, logs } = run(db.pool);
    assert.deepEqual(await result, { deleted: EXPIRED_7D.length, batches: 1, dryRun: false });
    assert.deepEqual(await secretNames(db.pool), without(EXPIRED_7D));
    assert.deepEqual(
      loggedSecrets(logs),
      EXPIRED_7D.map((n) => `owner/${n}`),
    );
    assert.ok(!JSON.stringify(logs).includes('very-secret-key'));
  });

  void it('with max-expired-days 0 deletes whatever has expired, never expires 0', async () => {
    const expired = [...EXPIRED_7D, '7d-minus-1s', 'exactly-7d', 'just-past'].sort();
    const { result } = run(db.pool, { options: { maxExpiredDays: 0 } });
    assert.equal((await result)?.['deleted'], expired.length);
    assert.deepEqual(await secretNames(db.pool), ['future', 'never', 'now']);
  });

  void it('changes nothing on a second run', async () => {
    await run(db.pool).result;
    assert.equal((await run(db.pool).result)?.['deleted'], 0);
    assert.deepEqual(await secretNames(db.pool), without(EXPIRED_7D));
  });

  void it('dry run names the same secrets and deletes nothing', async () => {
    const { result, logs } = run(db.pool, { dryRun: true, batchSize: 2 });
    assert.deepEqual(await result, { deleted: EXPIRED_7D.length, batches: 3, dryRun: true });
    assert.deepEqual(
      loggedSecrets(logs),
      EXPIRED_7D.map((n) => `owner/${n}`),
    );
    assert.equal((await secretNames(db.pool)).length, FIXTURE.length);
  });

  void it('stops between batches on abort', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(run(db.pool, { signal: ac.signal }).result, { name: 'AbortError' });
    assert.equal((await secretNames(db.pool)).length, FIXTURE.length);
  });
});
