/**
 * SIGHUP applies a status watcher's settings in a spawned daemon (the probe fixture's `probe-rows`
 * on a test database and its own key prefix): disabled at start, its rows stay pending; enabled by a
 * reload, they end normal; changed settings restart its worker (logged) and new rows follow them;
 * two SIGHUPs in a row leave one worker; disabled again, new rows stay pending and its gauges leave
 * /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import {
  Instance,
  clusterConfigYaml,
  deleteKeys,
  saveLogs,
  sleep,
  writeClusterConfig,
  type LogLine,
  type WatcherKeys,
} from '../helpers/cluster.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { count, createProbeTables, insertRows, rowsConfig } from '../helpers/probe-rows.js';

const WATCHER = 'probe-rows';
/** Long enough for several polls of an enabled watcher (poll-interval 200-300 ms here). */
const QUIET_MS = 1200;

void describe('SIGHUP and status watchers', { timeout: 90_000 }, () => {
  let db: TestDatabase;
  let daemon: Instance | undefined;
  let file = '';
  let healthPort = 0;
  const prefix = `iamw-e2e-status-reload-${randomBytes(4).toString('hex')}`;
  let failed = true;

  const config = (keys: WatcherKeys) => rowsConfig('reload', prefix, db.name, { lease: '5s', ...keys });

  before(async () => {
    db = await createTestDatabase();
    await createProbeTables(db.pool);
    ({ file, healthPort } = await writeClusterConfig(
      config({ enabled: false, 'poll-interval': '200ms' }),
      'iamw-status-reload-',
    ));
    daemon = new Instance('reload', file, healthPort);
    await daemon.started();
  });

  after(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.daemon.exited;
    if (failed && daemon) console.error(`daemon log kept in ${saveLogs([daemon])}`);
    await db?.drop();
    await deleteKeys(prefix);
  });

  /** Rewrites the config file with these keys of probe-rows, sends SIGHUP, and returns the reload's line. */
  async function reload(keys: WatcherKeys): Promise<{ reloaded: LogLine; applied: LogLine }> {
    const d = daemon!;
    writeFileSync(file, clusterConfigYaml(config(keys), healthPort));
    const seen = d.lines('config.reloaded').length;
    const applied = d.lines('status.reconfigured').length;
    d.kill('SIGHUP');
    await d.waitFor(() => d.lines('config.reloaded').length > seen, 10_000, 'config.reloaded');
    await d.waitFor(() => d.lines('status.reconfigured').length > applied, 10_000, 'status.reconfigured');
    return {
      reloaded: d.lines('config.reloaded')[seen]!,
      applied: d.lines('status.reconfigured')[applied]!,
    };
  }

  const statusOf = async (): Promise<Map<number, string>> => {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT id, status FROM probe_rows');
    return new Map(rows.map((r) => [Number(r.id), String(r.status)]));
  };

  /** Waits until no row in [from, to] is pending. */
  async function untilHandled(from: number, to: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const sql = `SELECT COUNT(*) FROM probe_rows WHERE status = 'pending' AND id BETWEEN ${from} AND ${to}`;
    for (;;) {
      const left = await count(db.pool, sql);
      if (left === 0) return;
      assert.ok(Date.now() < deadline, `rows ${from}-${to}: ${left} still pending`);
      await sleep(100);
    }
  }

  /** Checks that rows [from, to] stay pending, with no handler call, for {@link QUIET_MS}. */
  async function staysPending(from: number, to: number): Promise<void> {
    await sleep(QUIET_MS);
    const pending = `SELECT COUNT(*) FROM probe_rows WHERE status = 'pending' AND id BETWEEN ${from} AND ${to}`;
    assert.equal(await count(db.pool, pending), to - from + 1, 'rows still pending');
    const calls = `SELECT COUNT(*) FROM probe_calls WHERE rowId BETWEEN ${from} AND ${to}`;
    assert.equal(await count(db.pool, calls), 0, 'no handler call');
  }

  /** The /metrics lines of probe-rows' gauges. */
  async function gauges(): Promise<string[]> {
    const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) =>
        /^iam_watcher_status_(rows_waiting|oldest_waiting_seconds)\{watcher="probe-rows"\}/.test(l),
      );
  }

  void it('disabled at start: rows stay pending, no gauges', async () => {
    await insertRows(db.pool, 1, 10);
    await staysPending(1, 10);
    assert.deepEqual(await gauges(), []);
  });

  void it('enabled by SIGHUP: the rows end normal, the gauges appear', async () => {
    const { reloaded, applied } = await reload({ enabled: true, 'poll-interval': '200ms' });
    assert.deepEqual(reloaded.changed, [{ key: `watcher.${WATCHER}.enabled`, from: 'false', to: 'true' }]);
    assert.deepEqual(applied.started, [WATCHER]);
    await untilHandled(1, 10);
    const s = await statusOf();
    for (let i = 1; i <= 10; i++) assert.equal(s.get(i), 'normal', `row ${i}`);
    const deadline = Date.now() + 5_000;
    while ((await gauges()).length < 2) {
      assert.ok(Date.now() < deadline, 'no gauges for probe-rows');
      await sleep(100);
    }
  });

  void it('changed settings restart the worker, logged, and new rows follow them', async () => {
    const { reloaded, applied } = await reload({
      enabled: true,
      'poll-interval': '300ms',
      'batch-size': 7,
      'max-attempts': 1,
      'always-fail-ids': '15',
    });
    const changed = reloaded.changed as Array<{ key: string; from: string; to: string }>;
    const byKey = new Map(changed.map((c) => [c.key, `${c.from} -> ${c.to}`]));
    assert.equal(byKey.get(`watcher.${WATCHER}.poll-interval`), '200ms -> 300ms', JSON.stringify(changed));
    assert.equal(byKey.get(`watcher.${WATCHER}.batch-size`), '100 -> 7', JSON.stringify(changed));
    assert.equal(byKey.get(`watcher.${WATCHER}.max-attempts`), '5 -> 1', JSON.stringify(changed));
    assert.ok(byKey.has(`watcher.${WATCHER}.always-fail-ids`), JSON.stringify(changed));
    assert.deepEqual(reloaded.needsRestart, []);
    assert.deepEqual(applied.restarted, [WATCHER]);
    assert.deepEqual(applied.watchers, [WATCHER]);
    await insertRows(db.pool, 11, 20);
    await untilHandled(11, 20);
    const s = await statusOf();
    // Row 15 fails its one attempt (the new always-fail-ids and max-attempts); the others end normal.
    for (let i = 11; i <= 20; i++) assert.equal(s.get(i), i === 15 ? 'failed' : 'normal', `row ${i}`);
    // One handler call per row, across the restart.
    assert.equal(await count(db.pool, 'SELECT COUNT(*) FROM probe_calls'), 20);
    assert.equal(await count(db.pool, 'SELECT COUNT(DISTINCT rowId) FROM probe_calls'), 20);
  });

  void it('a SIGHUP while the previous reload restarts the worker: applied after it, one worker', async () => {
    const d = daemon!;
    const mark = d.lines('status.reconfigured').length;
    const seen = d.lines('config.reloaded').length;
    writeFileSync(
      file,
      clusterConfigYaml(config({ enabled: true, 'poll-interval': '250ms', 'max-attempts': 1 }), healthPort),
    );
    d.kill('SIGHUP');
    await d.waitFor(() => d.lines('config.reloaded').length > seen, 10_000, 'config.reloaded');
    d.kill('SIGHUP'); // the same file again, while the first reload may still stop the worker
    await d.waitFor(
      () => d.lines('status.reconfigured').length >= mark + 2,
      10_000,
      'two status.reconfigured',
    );
    const [first, second] = d.lines('status.reconfigured').slice(mark);
    assert.deepEqual(first!.restarted, [WATCHER]);
    assert.deepEqual([second!.started, second!.restarted, second!.stopped], [[], [], []], 'nothing changed');
    assert.deepEqual(second!.watchers, [WATCHER]);
    await insertRows(db.pool, 21, 40);
    await untilHandled(21, 40);
    const calls = await count(db.pool, 'SELECT COUNT(*) FROM probe_calls WHERE rowId BETWEEN 21 AND 40');
    assert.equal(calls, 20, 'one call per row');
  });

  void it('disabled by SIGHUP: new rows stay pending, the gauges leave /metrics, the daemon stops cleanly', async () => {
    const { reloaded, applied } = await reload({
      enabled: false,
      'poll-interval': '250ms',
      'max-attempts': 1,
    });
    assert.deepEqual(reloaded.changed, [{ key: `watcher.${WATCHER}.enabled`, from: 'true', to: 'false' }]);
    assert.deepEqual(applied.stopped, [WATCHER]);
    assert.deepEqual(applied.watchers, []);
    assert.deepEqual(await gauges(), []);
    await insertRows(db.pool, 41, 50);
    await staysPending(41, 50);
    assert.deepEqual(await gauges(), [], 'no late sample brings them back');
    const exit = await daemon!.stop();
    assert.equal(exit.code, 0, daemon!.daemon.stderr);
    failed = false;
  });
});
