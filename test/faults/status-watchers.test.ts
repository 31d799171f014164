/**
 * Faults under status watchers (the probe fixture's `probe-rows` watcher; transitions recorded by a
 * trigger, handler calls by the handler):
 *
 * 1. A replica is SIGKILLed with rows claimed: the others finish its rows; every row moves
 *    pending -> normal once; only rows the killed replica had called are called twice.
 * 2. Redis (a private server without persistence) is killed mid-run and restarted empty: nothing is
 *    claimed meanwhile, claiming resumes by itself, every row moves once.
 * 3. MariaDB (a private server) is killed mid-run and restarted: handlers and final UPDATEs fail
 *    meanwhile and are retried; every row moves once; nothing is lost.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { requireBuild } from '../helpers/daemon.js';
import { count, createProbeTables, insertRows, rowsReport, type RowsReport } from '../helpers/probe-rows.js';
import { deleteKeys } from './lib/redis-keys.js';
import { Instance, startAll, type FaultConfig, type WatcherKeys } from './lib/cluster.js';
import { CI, PROFILE } from './lib/profile.js';
import { sleep, until } from './lib/procs.js';
import { recordRow } from './lib/results.js';
import { PrivateMariaDB, PrivateRedis, type MariaDBAddress } from './lib/servers.js';

const run = randomBytes(4).toString('hex');
const ROWS = CI ? 3000 : 10_000;
const live: Instance[] = [];
const prefixes: Array<{ prefix: string; port?: number }> = [];
const pools: Pool[] = [];
let mariadb: PrivateMariaDB;

before(async () => {
  requireBuild();
  mariadb = await PrivateMariaDB.create();
});

after(async () => {
  for (const i of live) i.kill('SIGKILL');
  await Promise.all(live.map((i) => i.daemon.exited));
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  for (const p of prefixes) await deleteKeys(p.prefix, p.port).catch(() => undefined);
  await mariadb?.destroy();
});

async function database(name: string): Promise<Pool> {
  const c = mariadb.pool('mysql');
  await c.query(`CREATE DATABASE \`${name}\``);
  await c.end();
  const pool = mariadb.pool(name);
  pools.push(pool);
  await createProbeTables(pool);
  await insertRows(pool, 1, ROWS);
  return pool;
}

function configs(
  names: readonly string[],
  database: string,
  keys: WatcherKeys,
  redisPort?: number,
): Array<{ config: FaultConfig; opts: { mysqlPassword: string } }> {
  const keyPrefix = `iamw-faults-${run}-${names[0]}`;
  prefixes.push({ prefix: keyPrefix, ...(redisPort === undefined ? {} : { port: redisPort }) });
  const my: MariaDBAddress & { database: string } = { ...mariadb.address, database };
  return names.map((name) => ({
    config: {
      instanceId: name,
      keyPrefix,
      logLevel: 'info',
      shutdownTimeout: '5s',
      mysql: my,
      ...(redisPort === undefined ? {} : { redisPort }),
      watchers: { 'probe-rows': keys },
    },
    opts: { mysqlPassword: '' },
  }));
}

async function allSettled(pool: Pool, timeoutMs: number): Promise<void> {
  await until(
    'no pending row',
    async () =>
      (await count(pool, "SELECT COUNT(*) FROM probe_rows WHERE status = 'pending'")) === 0
        ? true
        : undefined,
    timeoutMs,
  );
}

async function untilNormal(pool: Pool, n: number): Promise<void> {
  await until(
    `${n} rows normal`,
    async () =>
      (await count(pool, "SELECT COUNT(*) FROM probe_rows WHERE status = 'normal'")) >= n ? true : undefined,
    30_000,
  );
}

/** One row of the fault table. */
function record(fault: string, checked: string, r: RowsReport, pass: boolean, notes: string): void {
  recordRow(import.meta.url, {
    fault,
    checked,
    slotsExpected: null,
    slotsRun: null,
    doubled: r.transitions - r.normal,
    missed: r.pending,
    rowsChecked: ROWS,
    pass,
    notes,
  });
}

function moved(r: RowsReport): boolean {
  return r.normal === ROWS && r.pending === 0 && r.transitions === ROWS && r.badTransitions === 0;
}

function figures(r: RowsReport): string {
  return `normal ${r.normal}/${ROWS}, transitions ${r.transitions}, bad ${r.badTransitions}, called twice ${r.calledTwice} (most ${r.mostCalls})`;
}

const KEYS = {
  'sleep-min-ms': 2,
  'sleep-max-ms': 8,
  lease: '3s',
  'poll-interval': '500ms',
  backoff: '500ms',
  'max-attempts': 20,
};

test('status watchers: a replica SIGKILLed with rows claimed', async () => {
  const pool = await database('st_kill');
  const [a, b, c] = await startAll(configs(['sk-a', 'sk-b', 'sk-c'], 'st_kill', KEYS));
  live.push(a!, b!, c!);
  await until(
    'the victim to handle rows',
    async () =>
      (await count(pool, "SELECT COUNT(*) FROM probe_calls WHERE instance = 'sk-c'")) >= 200
        ? true
        : undefined,
    30_000,
  );
  c!.kill('SIGKILL');
  await allSettled(pool, 90_000);
  const r = await rowsReport(pool);
  const twiceByOthers = await count(
    pool,
    "SELECT COUNT(*) FROM (SELECT rowId FROM probe_calls GROUP BY rowId HAVING COUNT(*) > 1 AND SUM(instance = 'sk-c') = 0) x",
  );
  const exits = await Promise.all([a!.stop(), b!.stop()]);
  const pass = moved(r) && r.mostCalls <= 2 && twiceByOthers === 0 && exits.every((e) => e.code === 0);
  const notes = `${figures(r)}; rows called twice without the killed replica: ${twiceByOthers}`;
  record(
    'status watcher: replica SIGKILLed',
    'its rows finished by the others; each row moves once; <= 2 calls, only its rows',
    r,
    pass,
    notes,
  );
  assert.ok(pass, notes);
});

test('status watchers: Redis killed mid-run and restarted empty', async () => {
  const redis = await PrivateRedis.start();
  try {
    const pool = await database('st_redis');
    const [a, b] = await startAll(configs(['sr-a', 'sr-b'], 'st_redis', KEYS, redis.port));
    live.push(a!, b!);
    await untilNormal(pool, ROWS / 3);
    await redis.halt();
    const downS = Math.min(PROFILE.redisOutageS, 5);
    await sleep(1000); // handlers in hand end, their final UPDATEs wait for Redis
    const callsAtMid = await count(pool, 'SELECT COUNT(*) FROM probe_calls');
    await sleep(downS * 1000 - 1000);
    const callsAtEnd = await count(pool, 'SELECT COUNT(*) FROM probe_calls');
    const resumedAt = Date.now();
    await redis.resume();
    await allSettled(pool, 90_000);
    const resumeS = (Date.now() - resumedAt) / 1000;
    const r = await rowsReport(pool);
    const exits = await Promise.all([a!.stop(), b!.stop()]);
    const pass = moved(r) && callsAtEnd === callsAtMid && exits.every((e) => e.code === 0);
    const notes = `${figures(r)}; handler calls in the last ${downS - 1} s of the outage: ${callsAtEnd - callsAtMid}; all done ${resumeS.toFixed(1)} s after Redis came back`;
    record(
      `status watcher: Redis down ${downS} s, back empty`,
      'nothing claimed while down; resumes by itself; each row moves once',
      r,
      pass,
      notes,
    );
    assert.ok(pass, notes);
  } finally {
    await redis.halt();
  }
});

test('status watchers: MariaDB killed mid-run and restarted', async () => {
  const pool = await database('st_maria');
  const [a, b] = await startAll(configs(['sm-a', 'sm-b'], 'st_maria', KEYS));
  live.push(a!, b!);
  await untilNormal(pool, ROWS / 3);
  await mariadb.kill();
  await sleep(3000);
  await mariadb.start();
  await allSettled(pool, 90_000);
  const r = await rowsReport(pool);
  const alive = !a!.exited && !b!.exited;
  const exits = await Promise.all([a!.stop(), b!.stop()]);
  const pass = moved(r) && alive && exits.every((e) => e.code === 0);
  const notes = `${figures(r)}; daemons alive throughout: ${alive}`;
  record(
    'status watcher: MariaDB killed 3 s',
    'failed attempts retried; final UPDATEs kept and written later; each row moves once',
    r,
    pass,
    notes,
  );
  assert.ok(pass, notes);
});
