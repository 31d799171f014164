/**
 * Primary-key-range batching (internal/watcher/watcher/batch.ts): range sizing, and the bound on
 * rows changed per batch when a range holds more matches than a batch may change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { nextSpan } from '../../internal/watcher/watcher/batch.js';
import { taskWatcher } from '../../internal/watcher/watcher/task/watcher.js';
import { createTestDatabase } from '../helpers/mysql.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { testRunContext } from '../helpers/watcher-run.js';

const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);

void describe('nextSpan', () => {
  void it('aims ranges at about batch-size matching rows', () => {
    assert.equal(nextSpan(1000, 1000, 1000), 1000, 'dense: never below the batch size');
    assert.equal(nextSpan(1000, 250, 1000), 3200, '25% match: 0.8 * 1000 / 0.25');
    assert.equal(nextSpan(4000, 0, 1000), 8000, 'no match: doubles');
    assert.equal(nextSpan(16_000, 0, 1000), 16_000, 'capped at 16 batch sizes');
    assert.equal(nextSpan(1000, 1, 1000), 16_000);
  });
});

void describe('batches over a table whose matches come late and dense', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ nowSeconds: NOW });
    // 12 active users, then 18 inactive ones: ranges widen over the first, then hold more matches
    // than one batch may change.
    for (let id = 1; id <= 30; id++) {
      await db.pool.query(
        `INSERT INTO user (id, name, nickname, password, email, loginedAt) VALUES (?, ?, ?, 'x', 'x', FROM_UNIXTIME(?))`,
        [id, `u${id}`, `u${id}`, NOW - (id <= 12 ? DAY : 400 * DAY)],
      );
    }
  });
  after(() => db.drop());

  void it('changes at most batch-size rows per batch and still gets them all', async () => {
    const { ctx, logs } = testRunContext(taskWatcher, db.pool, {
      batchSize: 3,
      options: { maxInactiveDays: 30 },
    });
    const counts = await taskWatcher.run(ctx);
    assert.equal(counts?.['disabled'], 18);
    const perBatch = logs.filter((l) => l.msg === 'users disabled').map((l) => Number(l['count']));
    assert.equal(
      perBatch.reduce((a, b) => a + b, 0),
      18,
    );
    assert.ok(
      perBatch.every((n) => n <= 3),
      `batches of at most 3: ${perBatch.join(',')}`,
    );
    const [rows] = await db.pool.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM user WHERE status = 0 AND id > 12',
    );
    assert.equal(Number(rows[0]?.['n']), 18);
  });
});
