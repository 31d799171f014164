/**
 * The clean watcher against a real MariaDB: audit rows come from deleting policies through the IAM
 * schema's trigger, each at a chosen (frozen) database time.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { cleanWatcher } from '../../internal/watcher/watcher/clean/watcher.js';
import type { CleanOptions } from '../../internal/watcher/watcher/clean/watcher.js';
import { createTestDatabase, dbNowSeconds } from '../helpers/mysql.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { runTestWatcher } from '../helpers/watcher-run.js';
import type { TestRunOptions } from '../helpers/watcher-run.js';

const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);
const KEEP = 180 * DAY;

/** Creates policy `id` and deletes it `ago` seconds before NOW, so the trigger writes its audit row. */
async function auditedPolicy(pool: Pool, id: number, ago: number): Promise<void> {
  await pool.query(`INSERT INTO policy (id, name, username, policyShadow) VALUES (?, ?, 'owner', '{}')`, [
    id,
    `p${id}`,
  ]);
  const conn = await pool.getConnection();
  try {
    await conn.query('SET timestamp = ?', [NOW - ago]);
    await conn.query('DELETE FROM policy WHERE id = ?', [id]);
    await conn.query('SET timestamp = ?', [NOW]);
  } finally {
    conn.release();
  }
}

async function auditIds(pool: Pool): Promise<number[]> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM policy_audit ORDER BY id');
  return rows.map((r) => Number(r['id']));
}

function run(pool: Pool, o: TestRunOptions<CleanOptions> = {}) {
  return runTestWatcher(cleanWatcher, pool, o);
}

// Ids are deliberately not in deletedAt order, as in a real audit table.
const FIXTURE: [id: number, ago: number][] = [
  [1, DAY],
  [2, 400 * DAY],
  [3, KEEP],
  [4, KEEP + 1],
  [5, KEEP - 1],
  [6, 1000 * DAY],
  [7, 0],
];
const SURVIVORS = [1, 3, 5, 7];

void describe('clean watcher', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ nowSeconds: NOW });
    assert.equal(await dbNowSeconds(db.pool), NOW);
    await db.pool.query(
      `INSERT INTO user (name, nickname, password, email) VALUES ('owner', 'owner', 'x', 'o@example.com')`,
    );
  });
  after(() => db.drop());
  beforeEach(async () => {
    await db.pool.query('DELETE FROM policy_audit');
    for (const [id, ago] of FIXTURE) await auditedPolicy(db.pool, id, ago);
  });

  void it('the trigger wrote one audit row per deleted policy', async () => {
    assert.deepEqual(
      await auditIds(db.pool),
      FIXTURE.map(([id]) => id),
    );
    const [rows] = await db.pool.query<RowDataPacket[]>(
      'SELECT UNIX_TIMESTAMP(deletedAt) AS t FROM policy_audit WHERE id = 3',
    );
    assert.equal(Number(rows[0]?.['t']), NOW - KEEP);
  });

  void it('deletes the rows deleted more than max-reserve-days ago, and only those', async () => {
    assert.deepEqual(await run(db.pool).result, { deleted: 3, batches: 1, dryRun: false });
    assert.deepEqual(await auditIds(db.pool), SURVIVORS);
  });

  void it('changes nothing on a second run', async () => {
    await run(db.pool).result;
    assert.equal((await run(db.pool).result)?.['deleted'], 0);
    assert.deepEqual(await auditIds(db.pool), SURVIVORS);
  });

  void it('gives the same result in batches of 2', async () => {
    assert.deepEqual(await run(db.pool, { batchSize: 2 }).result, { deleted: 3, batches: 3, dryRun: false });
    assert.deepEqual(await auditIds(db.pool), SURVIVORS);
  });

  void it('dry run counts and deletes nothing', async () => {
    assert.deepEqual(await run(db.pool, { dryRun: true, batchSize: 2 }).result, {
      deleted: 3,
      batches: 3,
      dryRun: true,
    });
    assert.deepEqual(
      await auditIds(db.pool),
      FIXTURE.map(([id]) => id),
    );
  });

  void it('honours max-reserve-days', async () => {
    assert.equal((await run(db.pool, { options: { maxReserveDays: 500 } }).result)?.['deleted'], 1);
    assert.deepEqual(await auditIds(db.pool), [1, 2, 3, 4, 5, 7]);
  });

  void it('refuses max-reserve-days 0, which would wipe the audit trail', () => {
    assert.throws(() => cleanWatcher.options.maxReserveDays.parse(0, 'file'), /between 1 and/);
    assert.equal(cleanWatcher.options.maxReserveDays.default, 180);
  });

  void it('stops between batches on abort: finished batches stay, the rest is untouched', async () => {
    await db.pool.query('DELETE FROM policy_audit');
    for (let id = 11; id <= 20; id++) await auditedPolicy(db.pool, id, 400 * DAY);
    const ac = new AbortController();
    let logged = 0;
    const { result } = run(db.pool, {
      batchSize: 3,
      signal: ac.signal,
      onLog: (l) => {
        if (l.msg !== 'old audit rows deleted') return;
        logged += Number(l['count']);
        ac.abort();
      },
    });
    await assert.rejects(result, { name: 'AbortError' });
    // The batch in flight on the other lane finishes too; no batch starts after the abort.
    const left = await auditIds(db.pool);
    assert.equal(10 - left.length, logged, 'exactly the batches logged are done');
    assert.ok([3, 6].includes(logged), `whole batches only, at most two: ${logged}`);
    assert.equal((await run(db.pool, { batchSize: 3 }).result)?.['deleted'], left.length);
  });
});
