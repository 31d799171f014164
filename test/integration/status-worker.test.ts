/**
 * The status recipe (kit/status-worker.ts) on the real MariaDB and Redis: several workers share one
 * table through Redis row claims; every row ends in its final status once; failures are retried after
 * the backoff and end `failed` after max-attempts; a timeout aborts the handler's signal; shutdown
 * gives claims back at once; a lost Redis claims nothing and recovers.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { pino } from 'pino';
import { StatusWorker } from '../../internal/watcher/kit/status-worker.js';
import type { HandlerContext, StatusRow, StatusSettings } from '../../internal/watcher/kit/status-spec.js';
import { createRedisRowClaims, rowKeyNames } from '../../internal/watcher/lock/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { closeAll, deletePrefix, randomPrefix, testRedis } from '../helpers/redis.js';

const silent = pino({ level: 'silent' });
const TABLE = {
  table: 'jobs',
  key: 'id',
  statusColumn: 'status',
  todo: ['pending'],
  done: 'normal',
  failed: 'failed',
  since: 'createdAt',
} as const;

const SETTINGS: StatusSettings = {
  dryRun: false,
  batchSize: 50,
  pollIntervalMs: 100,
  concurrency: 4,
  leaseMs: 3000,
  maxAttempts: 3,
  backoffMs: 200,
  backoffMaxMs: 1000,
  timeoutMs: 0,
};

type Handler = (row: StatusRow, ctx: HandlerContext<unknown>) => Promise<void>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

void describe('status worker', () => {
  let db: TestDatabase;
  const redis = testRedis();
  let prefix = '';

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
    closeAll(redis);
  });
  beforeEach(async () => {
    prefix = randomPrefix();
    await db.pool.query('DROP TABLE IF EXISTS jobs');
    await db.pool.query(
      "CREATE TABLE jobs (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL DEFAULT 'pending', createdAt TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY (status, id))",
    );
  });

  async function insert(from: number, to: number): Promise<void> {
    const ids = Array.from({ length: to - from + 1 }, (_, i) => [from + i]);
    await db.pool.query('INSERT INTO jobs (id) VALUES ?', [ids]);
  }

  async function statuses(): Promise<Map<number, string>> {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT id, status FROM jobs');
    return new Map(rows.map((r) => [Number(r.id), String(r.status)]));
  }

  function worker(
    instance: string,
    handle: Handler,
    over: Partial<StatusSettings> = {},
  ): StatusWorker<unknown> {
    return new StatusWorker({
      watcher: 'jobs',
      table: TABLE,
      handle,
      options: {},
      settings: { ...SETTINGS, ...over },
      db: db.pool,
      claims: createRedisRowClaims({ redis, keyPrefix: prefix, watcher: 'jobs', instanceId: instance }),
      logger: silent,
      instanceId: instance,
    });
  }

  void it('three workers move every row to normal exactly once, one call per row', async () => {
    await insert(1, 3000);
    const calls = new Map<number, number>();
    const handle: Handler = async (row) => {
      calls.set(Number(row.id), (calls.get(Number(row.id)) ?? 0) + 1);
      await sleep(1);
    };
    const workers = ['a', 'b', 'c'].map((i) => worker(i, handle));
    for (const w of workers) w.start();
    await until(
      async () => [...(await statuses()).values()].every((s) => s === 'normal'),
      60_000,
      'all rows normal',
    );
    await Promise.all(workers.map((w) => w.stop(5000)));
    assert.equal(calls.size, 3000);
    assert.deepEqual([...new Set(calls.values())], [1], 'one handler call per row');
    const done = workers.reduce((n, w) => n + w.totals.done, 0);
    assert.equal(done, 3000, 'the transitions add up to the rows: none doubled');
    assert.ok(
      workers.every((w) => w.totals.done > 0),
      `every worker took a share: ${workers.map((w) => w.totals.done).join('/')}`,
    );
    await deletePrefix(redis, prefix);
  });

  void it('retries a failing row after the backoff and fails a row for good after max-attempts', async () => {
    await insert(1, 20);
    const attempts = new Map<number, number[]>();
    const times = new Map<number, number[]>();
    const handle: Handler = (row, ctx) => {
      const id = Number(row.id);
      attempts.set(id, [...(attempts.get(id) ?? []), ctx.attempt]);
      times.set(id, [...(times.get(id) ?? []), Date.now()]);
      if (id === 7) return Promise.reject(new Error('row 7 always fails'));
      if (id <= 3 && ctx.attempt <= 2)
        return Promise.reject(new Error(`row ${id} fails attempt ${ctx.attempt}`));
      return Promise.resolve();
    };
    const w = worker('a', handle);
    w.start();
    await until(
      async () => [...(await statuses()).values()].every((s) => s !== 'pending'),
      20_000,
      'no pending row',
    );
    await w.stop(2000);
    const st = await statuses();
    for (const id of [1, 2, 3]) {
      assert.equal(st.get(id), 'normal');
      assert.deepEqual(attempts.get(id), [1, 2, 3], `row ${id} succeeded on attempt 3`);
      const [t1, t2, t3] = times.get(id) ?? [];
      // Equal jitter: at least half the backoff (200 ms, then 400 ms).
      assert.ok(
        t2! - t1! >= 100 && t3! - t2! >= 200,
        `row ${id} waited the backoff: ${t2! - t1!}, ${t3! - t2!} ms`,
      );
    }
    assert.equal(st.get(7), 'failed');
    assert.deepEqual(attempts.get(7), [1, 2, 3], 'max-attempts 3');
    assert.equal(st.get(10), 'normal');
    assert.equal(w.totals.failed, 1);
    assert.equal(w.totals.retried, 3 * 2 + 2);
    assert.equal(w.totals.done, 19);
    await deletePrefix(redis, prefix);
  });

  void it('a timeout aborts the handler signal and counts as a failed attempt', async () => {
    await insert(1, 1);
    const reasons: string[] = [];
    const handle: Handler = (_row, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          reasons.push((ctx.signal.reason as { code?: string }).code ?? '?');
          reject(ctx.signal.reason as Error);
        });
      });
    const w = worker('a', handle, { timeoutMs: 100, maxAttempts: 2, backoffMs: 50 });
    w.start();
    await until(async () => (await statuses()).get(1) === 'failed', 10_000, 'row failed');
    await w.stop(1000);
    assert.deepEqual(reasons, ['HANDLER_TIMEOUT', 'HANDLER_TIMEOUT']);
  });

  void it('shutdown aborts handlers and gives their claims back at once', async () => {
    await insert(1, 40);
    let started = 0;
    const handle: Handler = (_row, ctx) =>
      new Promise((_resolve, reject) => {
        started++;
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
      });
    const w = worker('a', handle, { leaseMs: 60_000 });
    w.start();
    await until(() => Promise.resolve(started === 4), 5000, 'four handlers running');
    const claimed = await redis.keys(`${prefix}rows:*claim*`);
    assert.ok(claimed.length >= 4, `rows are claimed: ${claimed.length}`);
    const t0 = Date.now();
    const r = await w.stop(5000);
    assert.equal(r.abandoned, 0);
    assert.ok(Date.now() - t0 < 2000, 'stop did not wait for a lease');
    const left = await redis.keys(`${prefix}rows:*claim*`);
    assert.deepEqual(left, [], 'no claim left behind (queued ones included)');
    assert.ok(
      [...(await statuses()).values()].every((s) => s === 'pending'),
      'nothing moved',
    );
    // Another worker takes them at once, attempt 1 again (shutdown does not count as an attempt).
    const seen: number[] = [];
    const w2 = worker('b', (_row, ctx) => {
      seen.push(ctx.attempt);
      return Promise.resolve();
    });
    w2.start();
    await until(
      async () => [...(await statuses()).values()].every((s) => s === 'normal'),
      10_000,
      'all normal',
    );
    await w2.stop(1000);
    assert.ok(seen.every((a) => a === 1));
  });

  void it('a claim held by a dead replica is taken over after the lease', async () => {
    await insert(1, 10);
    const keys = rowKeyNames(prefix, 'jobs');
    // A replica that died with rows 1..10 claimed: its keys stay until their lease (1.5 s) ends.
    for (let id = 1; id <= 10; id++) await redis.set(keys.claim(String(id)), 'dead:xyz', 'PX', 1500);
    const t0 = Date.now();
    const w = worker('a', () => Promise.resolve());
    w.start();
    await until(
      async () => [...(await statuses()).values()].every((s) => s === 'normal'),
      10_000,
      'all normal',
    );
    await w.stop(1000);
    const took = Date.now() - t0;
    assert.ok(took >= 1200 && took < 4000, `taken after the lease, within a poll: ${took} ms`);
  });

  void it('claims nothing while Redis is unreachable', async () => {
    await insert(1, 30);
    const down = testRedis(6390); // nothing listens there
    const calls: number[] = [];
    const w = new StatusWorker({
      watcher: 'jobs',
      table: TABLE,
      handle: (row) => {
        calls.push(Number(row.id));
        return Promise.resolve();
      },
      options: {},
      settings: SETTINGS,
      db: db.pool,
      claims: createRedisRowClaims({ redis: down, keyPrefix: prefix, watcher: 'jobs', instanceId: 'a' }),
      logger: silent,
      instanceId: 'a',
    });
    w.start();
    await sleep(1000);
    assert.deepEqual(calls, [], 'no row handled without the backend');
    assert.ok([...(await statuses()).values()].every((s) => s === 'pending'));
    await w.stop(1000);
    closeAll(down);
  });

  void it('the waiting rows are counted by one replica per poll interval; every replica reports them', async () => {
    await insert(1, 40);
    // Every COUNT the workers send to the table (the sample), through a pool that counts them.
    let counted = 0;
    const pool = new Proxy(db.pool, {
      get(target, name, receiver) {
        const v: unknown = Reflect.get(target, name, receiver);
        if (name !== 'query' || typeof v !== 'function') return v;
        return (sql: unknown, ...rest: unknown[]) => {
          const text = typeof sql === 'string' ? sql : (sql as { sql: string }).sql;
          if (text.startsWith('SELECT COUNT(*)')) counted++;
          return (v as (...a: unknown[]) => unknown).call(target, sql, ...rest);
        };
      },
    });
    const seen = new Map<string, number[]>();
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    const workers = ['a', 'b'].map(
      (instance) =>
        new StatusWorker({
          watcher: 'jobs',
          table: TABLE,
          // Rows stay in hand (and pending) while the samples are taken.
          handle: () => blocked,
          options: {},
          settings: { ...SETTINGS, pollIntervalMs: 400, concurrency: 1, batchSize: 5 },
          db: pool,
          claims: createRedisRowClaims({ redis, keyPrefix: prefix, watcher: 'jobs', instanceId: instance }),
          logger: silent,
          instanceId: instance,
          hooks: { onSample: (_w, waiting) => seen.set(instance, [...(seen.get(instance) ?? []), waiting]) },
        }),
    );
    const t0 = Date.now();
    for (const w of workers) w.start();
    await until(
      () => Promise.resolve((seen.get('a')?.length ?? 0) >= 3 && (seen.get('b')?.length ?? 0) >= 3),
      10_000,
      'three samples on each replica',
    );
    const intervals = (Date.now() - t0) / 400;
    release();
    await Promise.all(workers.map((w) => w.stop(1000)));
    assert.ok(
      counted <= Math.ceil(intervals) + 1,
      `${counted} COUNTs in ${intervals.toFixed(1)} intervals: one replica counts per interval`,
    );
    for (const instance of ['a', 'b']) {
      assert.ok(
        seen.get(instance)?.every((n) => n === 40),
        `${instance} reports the 40 waiting rows: ${JSON.stringify(seen.get(instance))}`,
      );
    }
  });
});
