/**
 * The daemon's status runner (status-runner.ts) on the real MariaDB and Redis: reloads that come
 * while an earlier one still stops a worker leave one worker per watcher, with the latest settings,
 * and a stop after them leaves none running.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { pino } from 'pino';
import { StatusRunner } from '../../internal/watcher/status-runner.js';
import type { WatcherConfig, WatcherEntry } from '../../internal/watcher/config.js';
import type { AnyStatusWatcher } from '../../internal/watcher/watcher/status-watcher.js';
import { createRedisRowClaims } from '../../internal/watcher/lock/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { closeAll, deletePrefix, randomPrefix, testRedis } from '../helpers/redis.js';

const silent = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('status runner', () => {
  let db: TestDatabase;
  const redis = testRedis();
  const prefix = randomPrefix();
  /** Handler calls: row id -> the `tag` option of the worker that handled it. */
  const calls: Array<{ id: number; tag: string }> = [];

  const watcher: AnyStatusWatcher = {
    kind: 'status',
    name: 'jobs',
    description: 'test',
    enabledByDefault: true,
    options: {},
    table: { table: 'jobs', key: 'id', statusColumn: 'status', todo: ['pending'], done: 'normal' },
    async handle(row, ctx) {
      calls.push({ id: Number(row.id), tag: String((ctx.options as { tag: string }).tag) });
      await sleep(20);
    },
  };

  function entry(tag: string, pollIntervalMs = 100): WatcherEntry<AnyStatusWatcher> {
    const config: WatcherConfig = {
      name: 'jobs',
      enabled: true,
      schedule: '',
      mode: 'fixed-rate',
      overlap: 'skip',
      catchUpMs: 0,
      timeZone: undefined,
      dryRun: false,
      batchSize: 50,
      options: { tag },
      status: {
        pollIntervalMs,
        concurrency: 2,
        leaseMs: 3000,
        maxAttempts: 3,
        backoffMs: 200,
        backoffMaxMs: 1000,
        timeoutMs: 0,
      },
    };
    return { watcher, config };
  }

  function runner(events: string[] = []): StatusRunner {
    return new StatusRunner({
      events: {
        started: (w) => events.push(`started ${w}`),
        removed: (w) => events.push(`removed ${w}`),
      },
      db: db.pool,
      rowClaims: (w) => createRedisRowClaims({ redis, keyPrefix: prefix, watcher: w, instanceId: 'i-1' }),
      logger: silent,
      instanceId: 'i-1',
    });
  }

  async function insert(from: number, to: number): Promise<void> {
    const ids = Array.from({ length: to - from + 1 }, (_, i) => [from + i]);
    await db.pool.query('INSERT INTO jobs (id) VALUES ?', [ids]);
  }

  async function pending(): Promise<number> {
    const [r] = await db.pool.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM jobs WHERE status = 'pending'",
    );
    return Number(r[0]?.n);
  }

  async function untilDone(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await pending()) > 0) {
      assert.ok(Date.now() < deadline, 'rows still pending');
      await sleep(50);
    }
  }

  before(async () => {
    db = await createTestDatabase();
    await db.pool.query(
      "CREATE TABLE jobs (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL DEFAULT 'pending', KEY (status, id))",
    );
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM jobs');
    calls.length = 0;
  });
  after(async () => {
    await db.drop();
    await deletePrefix(redis, prefix);
    closeAll(redis);
  });

  void it('reloads in quick succession leave one worker, with the latest settings; stop leaves none', async () => {
    const r = runner();
    r.start([entry('a')]);
    await insert(1, 20);
    await untilDone(10_000);
    // Three reloads without waiting: each comes while the one before stops the worker.
    await Promise.all([
      r.reconfigure([entry('b')], 1000),
      r.reconfigure([entry('c')], 1000),
      r.reconfigure([entry('d')], 1000),
    ]);
    calls.length = 0;
    await insert(21, 60);
    await untilDone(10_000);
    assert.deepEqual(
      [...new Set(calls.map((c) => c.tag))],
      ['d'],
      'rows handled by the latest settings only',
    );
    assert.equal(calls.length, 40, 'one call per row');
    await r.stop(1000);
    calls.length = 0;
    await insert(61, 70);
    await sleep(600);
    assert.equal(await pending(), 10, 'no worker runs after stop');
    assert.deepEqual(calls, []);
  });

  void it('a reload that comes while another stops the worker waits for it: one worker, the latest settings', async () => {
    const r = runner();
    r.start([entry('a')]);
    await insert(1, 20);
    await sleep(50); // handlers in flight: the first reload's stop has them to abort
    const first = r.reconfigure([entry('b')], 1000);
    await sleep(1);
    const second = r.reconfigure([entry('c')], 1000);
    await Promise.all([first, second]);
    await untilDone(10_000);
    calls.length = 0;
    await insert(21, 40);
    await untilDone(10_000);
    assert.deepEqual([...new Set(calls.map((c) => c.tag))], ['c']);
    assert.equal(calls.length, 20, 'one call per row');
    await r.stop(1000);
  });

  void it('a watcher disabled by a reload stops and is reported removed; a reload with stop() starts nothing', async () => {
    const events: string[] = [];
    const r = runner(events);
    r.start([entry('a')]);
    await r.reconfigure([], 1000);
    assert.deepEqual(events, ['started jobs', 'removed jobs']);
    await insert(1, 10);
    await sleep(600);
    assert.equal(await pending(), 10, 'a disabled watcher takes no row');
    const reload = r.reconfigure([entry('e')], 1000);
    await Promise.all([reload, r.stop(1000)]);
    await sleep(600);
    assert.equal(await pending(), 10, 'nothing started after stop()');
    assert.deepEqual(events, ['started jobs', 'removed jobs']);
    assert.deepEqual(calls, []);
  });
});
