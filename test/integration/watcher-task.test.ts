/**
 * The task watcher against a real MariaDB with the IAM schema, on a frozen database clock so that
 * "exactly N days" is exact.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { taskWatcher } from '../../internal/watcher/watcher/task/watcher.js';
import type { TaskOptions } from '../../internal/watcher/watcher/task/watcher.js';
import { readCandidates } from '../../internal/watcher/kit/candidates.js';
import type { Candidates, CandidateSource } from '../../internal/watcher/kit/candidates.js';
import { Session } from '../../internal/watcher/kit/transaction.js';
import { updateBatch } from '../../internal/watcher/kit/update-batch.js';
import { createPool, createTestDatabase, dbNowSeconds } from '../helpers/mysql.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { defaultOptions, runTestWatcher } from '../helpers/watcher-run.js';
import type { TestRunOptions } from '../helpers/watcher-run.js';

const DAY = 86_400;
const N = 30;
const NOW = Math.floor(Date.now() / 1000);

interface UserSpec {
  name: string;
  /** Seconds before NOW of the last login; null = never logged in. */
  loginedAgo: number | null;
  createdAgo?: number;
  status?: number;
  isAdmin?: number;
  id?: number;
}

async function addUsers(pool: Pool, users: UserSpec[]): Promise<void> {
  for (const u of users) {
    await pool.query(
      `INSERT INTO user (id, name, status, nickname, password, email, isAdmin, loginedAt, createdAt)
       VALUES (?, ?, ?, ?, 'x', 'x@example.com', ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))`,
      [
        u.id ?? null,
        u.name,
        u.status ?? 1,
        u.name.slice(0, 30),
        u.isAdmin ?? 0,
        u.loginedAgo === null ? null : NOW - u.loginedAgo,
        NOW - (u.createdAgo ?? 1000 * DAY),
      ],
    );
  }
}

async function disabledNames(pool: Pool): Promise<string[]> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT name FROM user WHERE status = 0 ORDER BY name');
  return rows.map((r) => r['name'] as string);
}

function run(pool: Pool, o: TestRunOptions<TaskOptions> = {}) {
  return runTestWatcher(taskWatcher, pool, { ...o, options: { maxInactiveDays: N, ...o.options } });
}

function loggedNames(logs: Record<string, unknown>[]): string[] {
  return logs.flatMap((l) => (Array.isArray(l['names']) ? (l['names'] as string[]) : [])).sort();
}

const FIXTURE: UserSpec[] = [
  { name: 'exactly-n', loginedAgo: N * DAY },
  { name: 'n-minus-1s', loginedAgo: N * DAY - 1 },
  { name: 'n-plus-1s', loginedAgo: N * DAY + 1 },
  { name: 'long-ago', loginedAgo: 400 * DAY },
  { name: 'recent', loginedAgo: DAY },
  { name: 'never-new', loginedAgo: null, createdAgo: DAY },
  { name: 'never-exactly-n', loginedAgo: null, createdAgo: N * DAY },
  { name: 'never-n-plus-1s', loginedAgo: null, createdAgo: N * DAY + 1 },
  { name: 'never-old', loginedAgo: null, createdAgo: 100 * DAY },
  { name: 'old-admin', loginedAgo: 400 * DAY, isAdmin: 1 },
  { name: 'excluded', loginedAgo: 400 * DAY },
  { name: 'already-off', loginedAgo: 400 * DAY, status: 0 },
];
const EXPECTED = ['long-ago', 'n-plus-1s', 'never-n-plus-1s', 'never-old'];

void describe('task watcher', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ nowSeconds: NOW });
    assert.equal(await dbNowSeconds(db.pool), NOW, 'the test pool freezes the database clock');
  });
  after(() => db.drop());
  beforeEach(async () => {
    await db.pool.query('DELETE FROM user');
    await addUsers(db.pool, FIXTURE);
  });

  void it('disables exactly the users inactive for more than N days, and names them', async () => {
    const { result, logs } = run(db.pool, { options: { excludeUsers: ['excluded'] } });
    assert.deepEqual(await result, { disabled: EXPECTED.length, batches: 1, dryRun: false });
    assert.deepEqual(await disabledNames(db.pool), [...EXPECTED, 'already-off'].sort());
    assert.deepEqual(loggedNames(logs), EXPECTED);
    assert.ok(logs.every((l) => l['watcher'] === 'task'));
  });

  void it('changes only status: last login and other columns stay as they were', async () => {
    const [before] = await db.pool.query<RowDataPacket[]>(
      'SELECT id, name, nickname, loginedAt, createdAt FROM user',
    );
    await run(db.pool).result;
    const [afterRows] = await db.pool.query<RowDataPacket[]>(
      'SELECT id, name, nickname, loginedAt, createdAt FROM user',
    );
    assert.deepEqual(afterRows, before);
  });

  void it('changes nothing on a second run', async () => {
    await run(db.pool, { options: { excludeUsers: ['excluded'] } }).result;
    const { result, logs } = run(db.pool, { options: { excludeUsers: ['excluded'] } });
    assert.equal((await result)?.['disabled'], 0);
    assert.deepEqual(loggedNames(logs), []);
  });

  void it('disables administrators and unlisted names when not excluded', async () => {
    const { result } = run(db.pool, { options: { excludeAdmins: false } });
    assert.equal((await result)?.['disabled'], EXPECTED.length + 2);
    assert.deepEqual(
      await disabledNames(db.pool),
      [...EXPECTED, 'already-off', 'excluded', 'old-admin'].sort(),
    );
  });

  void it('dry run counts and names the same users and changes nothing', async () => {
    const { result, logs } = run(db.pool, { dryRun: true, options: { excludeUsers: ['excluded'] } });
    assert.deepEqual(await result, { disabled: EXPECTED.length, batches: 1, dryRun: true });
    assert.deepEqual(loggedNames(logs), EXPECTED);
    assert.deepEqual(await disabledNames(db.pool), ['already-off']);
  });

  void it('gives the same result in batches of 2 over sparse ids', async () => {
    await addUsers(db.pool, [
      { id: 1_000_000, name: 'sparse-old', loginedAgo: 500 * DAY },
      { id: 5_000_000_000, name: 'sparse-new', loginedAgo: DAY },
    ]);
    const { result, logs } = run(db.pool, { batchSize: 2, options: { excludeUsers: ['excluded'] } });
    const counts = await result;
    assert.equal(counts?.['disabled'], EXPECTED.length + 1);
    assert.ok(Number(counts?.['batches']) > 1);
    assert.ok(
      logs.every((l) => l['count'] === undefined || Number(l['count']) <= 2),
      'no batch changes more than 2',
    );
    assert.deepEqual(loggedNames(logs), [...EXPECTED, 'sparse-old'].sort());
  });

  void it('fills every batch but the last: 5 matches in batches of 2 are 3 batches', async () => {
    await addUsers(db.pool, [{ name: 'late-old', loginedAgo: 400 * DAY }]);
    const { result, logs } = run(db.pool, { batchSize: 2, options: { excludeUsers: ['excluded'] } });
    assert.deepEqual(await result, { disabled: EXPECTED.length + 1, batches: 3, dryRun: false });
    assert.deepEqual(
      logs.filter((l) => l.msg === 'users disabled').map((l) => l['count']),
      [2, 2, 1],
    );
    assert.deepEqual(loggedNames(logs), [...EXPECTED, 'late-old'].sort());
  });

  void it('with a pool of one connection reads and writes in turn, with the same result', async () => {
    const single = createPool(db.name, { nowSeconds: NOW, connectionLimit: 1 });
    try {
      const { result, logs } = run(single, {
        batchSize: 2,
        dbConnectionLimit: 1,
        options: { excludeUsers: ['excluded'] },
      });
      assert.deepEqual(await result, { disabled: EXPECTED.length, batches: 2, dryRun: false });
      assert.deepEqual(loggedNames(logs), EXPECTED);
      assert.deepEqual(await disabledNames(db.pool), [...EXPECTED, 'already-off'].sort());
    } finally {
      await single.end();
    }
  });

  void it('a user who logged in between read and update is not disabled, and the names stay exact', async () => {
    const source: CandidateSource = {
      table: 'user',
      filter: {
        sql: '`status` = 1 AND COALESCE(UNIX_TIMESTAMP(`loginedAt`), UNIX_TIMESTAMP(`createdAt`)) < ?',
        params: [NOW - N * DAY],
      },
      names: { columns: ['name'], field: 'names', name: (row) => String(row['name']) },
    };
    const conn = await db.pool.getConnection();
    try {
      const batches: Candidates[] = [];
      for await (const b of readCandidates(conn, source, 100)) batches.push(b);
      assert.equal(batches.length, 1);
      const [batch] = batches as [Candidates];
      assert.ok(batch.names.includes('long-ago') && batch.names.includes('old-admin'));
      // Between the read and the update: one candidate logs in, another is disabled by someone else.
      await db.pool.query('UPDATE user SET loginedAt = FROM_UNIXTIME(?) WHERE name = ?', [NOW, 'long-ago']);
      await db.pool.query('UPDATE user SET status = 0 WHERE name = ?', ['old-admin']);
      const session = await Session.begin(conn);
      const done = await updateBatch(session, { ...source, set: '`status` = 0' }, batch);
      await session.end();
      assert.equal(done.redone, true);
      const expected = batch.names.filter((n) => n !== 'long-ago' && n !== 'old-admin');
      assert.deepEqual([...done.names].sort(), [...expected].sort());
      assert.deepEqual(await disabledNames(db.pool), [...expected, 'already-off', 'old-admin'].sort());
    } finally {
      conn.release();
    }
  });

  void it('with max-inactive-days 0 does nothing and sends no query', async () => {
    const noDb = new Proxy({} as Pool, {
      get() {
        throw new Error('the task watcher touched the database');
      },
    });
    const options = defaultOptions(taskWatcher);
    assert.equal(options.maxInactiveDays, 0, 'the default is off');
    const { result } = runTestWatcher(taskWatcher, noDb);
    assert.deepEqual(await result, { disabled: 0, batches: 0, dryRun: false });
    assert.match(taskWatcher.describe?.(options) ?? '', /max-inactive-days is 0/);
  });

  void it('stops between batches on abort: finished batches stay, the rest is untouched', async () => {
    await db.pool.query('DELETE FROM user');
    await addUsers(
      db.pool,
      Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `old-${i + 1}`, loginedAgo: 400 * DAY })),
    );
    const ac = new AbortController();
    const logged: string[] = [];
    const { result } = run(db.pool, {
      batchSize: 3,
      signal: ac.signal,
      onLog: (l) => {
        if (l.msg !== 'users disabled') return;
        logged.push(...(l['names'] as string[]));
        ac.abort();
      },
    });
    await assert.rejects(result, { name: 'AbortError' });
    // The batch in flight on the other lane finishes too; no batch starts after the abort.
    const disabled = await disabledNames(db.pool);
    assert.deepEqual(disabled, [...logged].sort(), 'exactly the batches logged are done');
    assert.ok([3, 6].includes(disabled.length), `whole batches only, at most two: ${disabled.length}`);
    const rerun = run(db.pool, { batchSize: 3 });
    assert.equal((await rerun.result)?.['disabled'], 10 - disabled.length);
  });
});
