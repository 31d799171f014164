/**
 * Status watchers in spawned daemons (the probe fixture's `probe-rows` watcher on a test database):
 * 3 replicas and 20,000 pending rows with a handler sleeping 5-20 ms, one replica SIGKILLed mid-run;
 * retries after the backoff and a row that ends `failed`; rows inserted while the replicas run.
 * Each row's transitions are recorded by a trigger, each handler call by the handler.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { Instance, saveLogs, sleep, startAll } from '../helpers/cluster.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { deletePrefix, testRedis } from '../helpers/redis.js';
import { requireBuild } from '../helpers/daemon.js';
import { count as countIn, createProbeTables, insertRows, rowsConfig } from '../helpers/probe-rows.js';

const ROWS = Number(process.env.STATUS_E2E_ROWS ?? 20_000);

/** `iam_watcher_status_rows_total{watcher="probe-rows",outcome="failed"}` of one instance. */
async function failedCount(i: Instance): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${i.healthPort}/metrics`)).text();
  const m = /^iam_watcher_status_rows_total\{watcher="probe-rows",outcome="failed"\} (\S+)$/m.exec(text);
  return Number(m?.[1] ?? NaN);
}

function count(db: TestDatabase, sql: string): Promise<number> {
  return countIn(db.pool, sql);
}

/** A test database with the probe tables, a key prefix, and the instances to kill at the end. */
function suite(): { db: () => TestDatabase; prefix: string; live: Instance[] } {
  let db: TestDatabase | undefined;
  const prefix = `iamw-e2e-status-${randomBytes(4).toString('hex')}`;
  const live: Instance[] = [];
  before(async () => {
    requireBuild();
    db = await createTestDatabase();
    await createProbeTables(db.pool);
  });
  after(async () => {
    for (const i of live) i.kill('SIGKILL');
    await Promise.all(live.map((i) => i.daemon.exited));
    await db?.drop();
    const r = testRedis();
    await deletePrefix(r, prefix);
    r.disconnect();
  });
  return { db: () => db!, prefix, live };
}

void describe('status watchers, 3 replicas', { timeout: 240_000 }, () => {
  const t = suite();

  void it(`${ROWS} rows end normal exactly once; a SIGKILLed replica's rows are finished by the others within the lease`, async () => {
    const db = t.db();
    const { prefix, live } = t;
    await insertRows(db.pool, 1, ROWS);
    const keys = { 'sleep-min-ms': 5, 'sleep-max-ms': 20, lease: '3s', 'poll-interval': '500ms' };
    const [a, b, c] = await startAll(
      ['a', 'b', 'c'].map((n) => ({ config: rowsConfig(`st-${n}`, prefix, db.name, keys) })),
    );
    live.push(a!, b!, c!);
    // Kill c once it has handled some rows: it dies with rows claimed and handlers mid-sleep.
    while ((await count(db, "SELECT COUNT(*) FROM probe_calls WHERE instance = 'st-c'")) < 300)
      await sleep(100);
    const redis = testRedis();
    const claimKeys = await redis.keys(`${prefix}:rows:{probe-rows}:claim:*`);
    const values = claimKeys.length > 0 ? await redis.mget(...claimKeys) : [];
    c!.kill('SIGKILL');
    const killedAt = Date.now();
    const held = claimKeys
      .filter((_, i) => values[i]?.startsWith('st-c:'))
      .map((k) => Number(k.split(':').pop()));
    redis.disconnect();
    assert.ok(held.length > 0, 'the killed replica held claims');
    // Its rows are finished by the others within the lease (3 s) plus a poll and some margin.
    for (;;) {
      const left = await count(
        db,
        `SELECT COUNT(*) FROM probe_rows WHERE status <> 'normal' AND id IN (${held.join(',')})`,
      );
      if (left === 0) break;
      assert.ok(
        Date.now() - killedAt < 3000 + 500 + 4000,
        `${left} rows of the killed replica still not normal`,
      );
      await sleep(100);
    }
    const deadline = Date.now() + 150_000;
    while ((await count(db, "SELECT COUNT(*) FROM probe_rows WHERE status = 'pending'")) > 0) {
      assert.ok(Date.now() < deadline, `rows still pending; logs in ${saveLogs(live)}`);
      await sleep(250);
    }
    assert.equal(await count(db, "SELECT COUNT(*) FROM probe_rows WHERE status = 'normal'"), ROWS);
    // One transition per row, pending -> normal.
    assert.equal(await count(db, 'SELECT COUNT(*) FROM probe_transitions'), ROWS);
    assert.equal(await count(db, 'SELECT COUNT(DISTINCT rowId) FROM probe_transitions'), ROWS);
    assert.equal(
      await count(
        db,
        "SELECT COUNT(*) FROM probe_transitions WHERE fromStatus <> 'pending' OR toStatus <> 'normal'",
      ),
      0,
    );
    // One call per row, except rows the killed replica had called (at most 2, one of them its own).
    const [multi] = await db.pool.query<RowDataPacket[]>(
      "SELECT rowId, COUNT(*) AS n, SUM(instance = 'st-c') AS byKilled FROM probe_calls GROUP BY rowId HAVING n > 1",
    );
    for (const r of multi) {
      assert.ok(
        Number(r.n) <= 2 && Number(r.byKilled) >= 1,
        `row ${r.rowId}: ${r.n} calls, ${r.byKilled} by the killed replica`,
      );
    }
    assert.equal(await count(db, 'SELECT COUNT(DISTINCT rowId) FROM probe_calls'), ROWS);
    const stops = await Promise.all([a!.stop(), b!.stop()]);
    for (const s of stops) assert.equal(s.code, 0);
  });
});

void describe('status watchers: retries, failed rows, pick-up', { timeout: 120_000 }, () => {
  const t = suite();

  void it('retries after the backoff, ends an always-failing row failed, picks up new rows within a poll + 200 ms', async () => {
    const db = t.db();
    const { prefix, live } = t;
    await insertRows(db.pool, 1, 50);
    const keys = {
      'fail-ids': '1,2,3',
      'fail-attempts': 2,
      'always-fail-ids': '7',
      'max-attempts': 3,
      backoff: '1s',
      'poll-interval': '500ms',
    };
    const [a, b] = await startAll(
      ['a', 'b'].map((n) => ({ config: rowsConfig(`rt-${n}`, prefix, db.name, keys) })),
    );
    live.push(a!, b!);
    const deadline = Date.now() + 30_000;
    while ((await count(db, "SELECT COUNT(*) FROM probe_rows WHERE status = 'pending'")) > 0) {
      assert.ok(Date.now() < deadline, `rows still pending; logs in ${saveLogs(live)}`);
      await sleep(100);
    }
    const [calls] = await db.pool.query<RowDataPacket[]>(
      'SELECT rowId, attempt, UNIX_TIMESTAMP(at) * 1000 AS atMs FROM probe_calls WHERE rowId IN (1, 2, 3, 7) ORDER BY rowId, n',
    );
    for (const id of [1, 2, 3, 7]) {
      const mine = calls.filter((r) => Number(r.rowId) === id);
      assert.deepEqual(
        mine.map((r) => Number(r.attempt)),
        [1, 2, 3],
        `row ${id}: attempts 1, 2, 3`,
      );
      const gaps = mine.slice(1).map((r, i) => Number(r.atMs) - Number(mine[i]!.atMs));
      // Equal jitter: at least half of 1 s, then of 2 s.
      assert.ok(gaps[0]! >= 500 && gaps[1]! >= 1000, `row ${id} waited the backoff: ${gaps.join(', ')} ms`);
    }
    const status = async (id: number): Promise<string> => {
      const [r] = await db.pool.query<RowDataPacket[]>('SELECT status FROM probe_rows WHERE id = ?', [id]);
      return String(r[0]?.status);
    };
    for (const id of [1, 2, 3]) assert.equal(await status(id), 'normal');
    assert.equal(await status(7), 'failed');
    const failedLine = [...a!.lines('status.row-failed'), ...b!.lines('status.row-failed')];
    assert.equal(failedLine.length, 1);
    assert.match(JSON.stringify(failedLine[0]), /probe row 7 always fails/);
    const failedMetric = (await failedCount(a!)) + (await failedCount(b!));
    assert.equal(failedMetric, 1);
    // New rows while the replicas poll: picked up within one poll interval (500 ms) + 200 ms.
    for (let id = 1001; id <= 1010; id++) {
      await db.pool.query('INSERT INTO probe_rows (id) VALUES (?)', [id]);
      await sleep(137);
    }
    await sleep(1500);
    const [picks] = await db.pool.query<RowDataPacket[]>(
      'SELECT r.id, (UNIX_TIMESTAMP(c.at) - UNIX_TIMESTAMP(r.createdAt)) * 1000 AS ms FROM probe_rows r JOIN probe_calls c ON c.rowId = r.id WHERE r.id > 1000',
    );
    assert.equal(picks.length, 10);
    const worst = Math.max(...picks.map((p) => Number(p.ms)));
    assert.ok(worst <= 700, `picked up within 700 ms: worst ${worst} ms`);
    const stops = await Promise.all([a!.stop(), b!.stop()]);
    for (const s of stops) assert.equal(s.code, 0);
  });
});
