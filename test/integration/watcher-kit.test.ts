/**
 * The watcher kit (internal/watcher/kit) on a real database: range sizing, the bound on rows changed
 * per batch when a range holds more matches than a batch may change, loops that end by their own
 * bound when rows keep matching, lanes and connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { withConnections, withSessions } from '../../internal/watcher/kit/connections.js';
import { updateByKeyRange } from '../../internal/watcher/kit/index.js';
import { nextSpan, rangeCondition, spanOf } from '../../internal/watcher/kit/key-range.js';
import { Lanes } from '../../internal/watcher/kit/lanes.js';
import { Session } from '../../internal/watcher/kit/transaction.js';
import { forEachKeyRange } from '../../internal/watcher/kit/range-loop.js';
import { taskWatcher } from '../../internal/watcher/watcher/task/watcher.js';
import { createPool, createTestDatabase } from '../helpers/mysql.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { runTestWatcher, testRunContext } from '../helpers/watcher-run.js';

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
    const { result, logs } = runTestWatcher(taskWatcher, db.pool, {
      batchSize: 3,
      options: { maxInactiveDays: 30 },
    });
    const counts = await result;
    assert.equal(counts['disabled'], 18);
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

/** A promise and the functions that settle it. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve = (): void => undefined;
  let reject = (_e: Error): void => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

void describe('Lanes', () => {
  const conns: readonly [string, string] = ['a', 'b'];

  void it('runs one batch per lane and hands out a lane when one is free', async () => {
    const lanes = new Lanes(conns);
    const first = deferred();
    const second = deferred();
    const seen: unknown[] = [];
    const a = await lanes.free();
    lanes.start(a, async (conn) => {
      seen.push(conn);
      await first.promise;
    });
    const b = await lanes.free();
    assert.notEqual(a, b, 'the second batch goes to the other lane');
    lanes.start(b, async (conn) => {
      seen.push(conn);
      await second.promise;
    });
    assert.throws(() => lanes.start(a, () => Promise.resolve()), /busy/);
    let freed: number | undefined;
    const waiting = lanes.free().then((lane) => {
      freed = lane;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(freed, undefined, 'no lane is free while both run');
    second.resolve();
    await waiting;
    assert.equal(freed, b);
    assert.deepEqual(new Set(seen), new Set(conns));
    first.resolve();
    await lanes.drain();
  });

  void it('reports the first failure, and still waits for the batch in flight', async () => {
    const lanes = new Lanes(conns);
    const slow = deferred();
    let slowDone = false;
    lanes.start(0, async () => {
      await slow.promise;
      slowDone = true;
    });
    lanes.start(1, () => Promise.reject(new Error('deadlock, given up')));
    await assert.rejects(lanes.free(), /deadlock, given up/);
    const drained = assert.rejects(lanes.drain(), /deadlock, given up/);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(slowDone, false);
    slow.resolve();
    await drained;
    assert.equal(slowDone, true, 'drain returned only after the other lane finished');
    await lanes.settle();
  });
});

void describe('withConnections', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  void it('takes as many connections as asked, never more than the pool allows', async () => {
    const small = createPool(db.name, { connectionLimit: 2 });
    const count = (conns: readonly unknown[]): Promise<number> => Promise.resolve(conns.length);
    try {
      assert.equal(await withConnections(db.pool, { most: 3, limit: 4 }, count), 3);
      const start = Date.now();
      assert.equal(await withConnections(small, { most: 3, limit: 2 }, count), 2);
      assert.ok(Date.now() - start < 500, 'asked for no connection beyond the limit (no wait)');
    } finally {
      await small.end();
    }
  });

  void it('runs a session at READ COMMITTED and gives the connection back at its own level', async () => {
    const conn = await db.pool.getConnection();
    const level = async (): Promise<string> => {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_isolation', 'tx_isolation')",
      );
      return String(rows[0]?.['Value']);
    };
    try {
      await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE');
      const session = await Session.begin(conn);
      assert.equal(await level(), 'READ-COMMITTED');
      await session.transaction((c) => c.query('SELECT 1'));
      await session.end();
      assert.equal(await level(), 'SERIALIZABLE');
    } finally {
      conn.destroy();
    }
  });

  void it('goes on with fewer when the pool is busy, and gives the late connection back', async () => {
    const pool = createPool(db.name, { connectionLimit: 2 });
    try {
      const held = await pool.getConnection();
      const start = Date.now();
      let late: Promise<void> | undefined;
      const n = await withConnections(pool, { most: 2, limit: 2 }, async (conns) => {
        // The other watcher's connection comes back while this run goes on with one.
        late = new Promise((r) => setTimeout(r, 50)).then(() => held.release());
        const [rows] = await conns[0].query<RowDataPacket[]>('SELECT 1 AS one');
        assert.equal(rows[0]?.['one'], 1);
        return conns.length;
      });
      await late;
      assert.equal(n, 1);
      assert.ok(Date.now() - start < 5000, 'waited about a second, not for ever');
      // Both connections are free again: the one that came late went back to the pool.
      const both = await withConnections(pool, { most: 2, limit: 2 }, (conns) =>
        Promise.resolve(conns.length),
      );
      assert.equal(both, 2);
    } finally {
      await pool.end();
    }
  });
});

void describe('loops whose rows keep matching end by their own bound', () => {
  let db: TestDatabase;
  const ROWS = 25;
  before(async () => {
    db = await createTestDatabase({ nowSeconds: NOW });
    for (let id = 1; id <= ROWS; id++) {
      await db.pool.query(
        `INSERT INTO user (id, name, nickname, password, email, loginedAt) VALUES (?, ?, ?, 'x', 'x', FROM_UNIXTIME(?))`,
        [id * 3, `u${id}`, `u${id}`, NOW - 400 * DAY],
      );
    }
  });
  after(() => db.drop());

  void it('a range loop whose batches change nothing runs each range at most ceil(span / limit) times', async () => {
    const { ctx } = testRunContext(taskWatcher, db.pool, { batchSize: 4 });
    const calls = new Map<bigint, { span: number; rows: number; calls: number }>();
    const totals = await withSessions(ctx, 2, (sessions) =>
      forEachKeyRange({
        sessions,
        table: { table: 'user' },
        batchSize: 4,
        dryRun: false,
        signal: ctx.signal,
        logger: ctx.logger,
        // "Handles" up to `limit` rows and leaves them matching: the old contract looped for ever.
        each: async (session, range, limit) => {
          const r = rangeCondition(range);
          const [rows] = await session.conn.query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM user WHERE ${r.sql}`,
            r.params,
          );
          const inRange = Number(rows[0]?.['n']);
          const seen = calls.get(range.from) ?? { span: spanOf(range), rows: inRange, calls: 0 };
          seen.calls += 1;
          calls.set(range.from, seen);
          return Math.min(inRange, limit ?? inRange);
        },
      }),
    );
    assert.ok(calls.size > 1, 'several ranges');
    let expected = 0;
    for (const { span, rows, calls: n } of calls.values()) {
      // A full batch every time: the range is run as often as it could hold full batches, no more.
      const want = rows >= 4 ? Math.ceil(span / 4) : 1;
      assert.equal(n, want, `a range of ${span} ids with ${rows} rows ran ${n} times`);
      expected += want;
    }
    assert.equal(totals.batches, expected);
  });

  void it('an update whose change leaves rows matching still ends, after one pass', async () => {
    const { ctx, counted } = testRunContext(taskWatcher, db.pool, { batchSize: 4 });
    const totals = await updateByKeyRange(ctx, {
      table: 'user',
      rows: 'users',
      where: '`status` = 1',
      params: () => [],
      set: '`nickname` = `nickname`',
      action: 'touched',
      describeRow: { columns: ['name'], field: 'names', name: (row) => String(row['name']) },
    });
    assert.deepEqual(totals, { batches: Math.ceil(ROWS / 4), dryRun: false });
    assert.equal(counted['touched'], ROWS);
  });
});
