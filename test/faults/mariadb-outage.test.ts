/**
 * Fault 4: the database fails under the watchers, on a private MariaDB (its own data directory and
 * port, installed once for this file; the shared server is never touched).
 *
 * 1. The server is killed (SIGKILL, a crash) while `task` and `clean` both run long, batched purges:
 *    each run ends with one `run.finished` line, `result: "failed"`, naming the error; after InnoDB's
 *    recovery the rows changed are whole batches (no partial batch stays); the server comes back and
 *    the next slot completes the work. The daemon stays up throughout.
 * 2. The server is slow: another session holds row locks that a `clean` batch needs for longer than
 *    the lease. The batch waits, the lease is kept (extended meanwhile), and the run ends ok.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { requireBuild } from '../helpers/daemon.js';
import { deleteKeys } from './lib/redis-keys.js';
import { Instance, type FaultConfig } from './lib/cluster.js';
import { auditCounts, enabledUsers, seedAudit, seedUsers } from './lib/iam.js';
import { PROFILE } from './lib/profile.js';
import { sleep, until } from './lib/procs.js';
import { recordRow } from './lib/results.js';
import { PrivateMariaDB } from './lib/servers.js';

const run = randomBytes(4).toString('hex');
const live: Instance[] = [];
const prefixes: string[] = [];
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
  for (const p of prefixes) await deleteKeys(p);
  await mariadb?.destroy();
});

function config(
  name: string,
  database: string,
  lease: string,
  watchers: FaultConfig['watchers'],
): FaultConfig {
  const keyPrefix = `iamw-faults-${run}-${name}`;
  prefixes.push(keyPrefix);
  return { instanceId: `${name}-0`, keyPrefix, lease, mysql: { ...mariadb.address, database }, watchers };
}

async function database(name: string): Promise<Pool> {
  await mariadb.createIamDatabase(name);
  const pool = mariadb.pool(name);
  pools.push(pool);
  return pool;
}

test('MariaDB killed mid-run of task and clean: failed lines, whole batches only, the next slot completes', async (t) => {
  const BATCH = 20;
  const OLD = PROFILE.auditRows;
  const YOUNG = 300;
  const INACTIVE = Math.round(PROFILE.auditRows / 2);
  const ACTIVE = 200;
  const pool = await database('iam_outage');
  await seedAudit(pool, OLD, YOUNG);
  await seedUsers(pool, INACTIVE, ACTIVE);
  const every = { schedule: '@every 5s', 'batch-size': BATCH };
  const daemon = await Instance.start(
    config('mariadb', 'iam_outage', '5s', {
      clean: { ...every, 'max-reserve-days': 180 },
      task: { ...every, 'max-inactive-days': 30 },
    }),
    { builtCli: true, mysqlPassword: '' },
  );
  live.push(daemon);
  await daemon.started();
  await until(
    'both purges to be under way',
    async () => {
      const a = await auditCounts(pool);
      const u = await enabledUsers(pool, INACTIVE);
      return a.old <= OLD - 3 * BATCH && u.inactive <= INACTIVE - 3 * BATCH ? true : undefined;
    },
    30_000,
  );
  const killedAtMs = Date.now();
  await mariadb.kill();
  const failed = await Promise.all(
    ['clean', 'task'].map((w) =>
      daemon.waitFor(
        (l) => l.event === 'run.finished' && l.watcher === w && Date.parse(String(l.time)) >= killedAtMs,
        20_000,
        `the ${w} run to finish`,
      ),
    ),
  );
  const failedAfterMs = Math.max(...failed.map((l) => Date.parse(String(l.time)) - killedAtMs));
  const restartMs = Math.round(await mariadb.start());
  const atCrash = { audit: await auditCounts(pool), users: await enabledUsers(pool, INACTIVE) };
  const deletedAtCrash = OLD - atCrash.audit.old;
  const disabledAtCrash = INACTIVE - atCrash.users.inactive;
  const ok = await Promise.all(
    ['clean', 'task'].map((w) =>
      daemon.waitFor(
        (l) =>
          l.event === 'run.finished' &&
          l.watcher === w &&
          l.result === 'ok' &&
          Date.parse(String(l.time)) > killedAtMs,
        60_000,
        `a completed ${w} run`,
      ),
    ),
  );
  const end = { audit: await auditCounts(pool), users: await enabledUsers(pool, INACTIVE) };
  const health = await fetch(`http://127.0.0.1:${daemon.healthPort}/healthz`).then((r) => r.status);
  const alive = !daemon.exited;
  const exit = await daemon.stop();
  const failedLines = daemon.lines('run.finished').filter((l) => l.result === 'failed');
  const messages = failed.map((l) => {
    const err = l.err as { message?: string; code?: string } | undefined;
    return `${String(l.watcher)}: ${String(l.result)} (${err?.code ?? ''} ${err?.message ?? String(l.msg)})`;
  });
  const checks = {
    'runs end failed with the error named': failed.every(
      (l) =>
        l.result === 'failed' && typeof (l.err as { message?: unknown } | undefined)?.message === 'string',
    ),
    'one run.finished line per failed run': failedLines.length >= 2,
    'deleted rows are whole batches': deletedAtCrash % BATCH === 0,
    'disabled users are whole batches': disabledAtCrash % BATCH === 0,
    'next slot completes the purge': end.audit.old === 0 && end.users.inactive === 0,
    'young rows and active users untouched': end.audit.young === YOUNG && end.users.active === ACTIVE,
    'the daemon stayed up, healthz ok, exit 0': alive && health === 200 && exit.code === 0,
  };
  const bad = Object.entries(checks)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const notes =
    `install ${Math.round(mariadb.installMs)} ms, first start ${Math.round(mariadb.startMs[0] ?? 0)} ms, restart after crash ${restartMs} ms; ` +
    `failed lines ${failedAfterMs} ms after the kill: ${messages.join('; ')}; ` +
    `at the crash ${deletedAtCrash}/${OLD} audit rows deleted, ${disabledAtCrash}/${INACTIVE} users disabled (batch ${BATCH}); ` +
    `completed by slots ${ok.map((l) => `${String(l.watcher)}@${String(l.slot).slice(11, 19)}`).join(', ')}` +
    (bad.length ? `; FAILED: ${bad.join('; ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: 'MariaDB killed mid-run',
    checked: 'task+clean: failed line, whole batches, next slot completes',
    slotsExpected: null,
    slotsRun: null,
    doubled: null,
    missed: null,
    rowsChecked: OLD + YOUNG + INACTIVE + ACTIVE,
    pass: bad.length === 0,
    notes,
  });
  assert.deepEqual(bad, [], notes);
});

test('MariaDB slow (row locks held by another session longer than the lease): the batch waits, the lease holds', async (t) => {
  const BATCH = 50;
  const OLD = 3000;
  const HOLD_MS = PROFILE.settleS * 1000 + 2000;
  const LEASE_MS = 3000;
  const pool = await database('iam_slow');
  await seedAudit(pool, OLD, 100);
  // Another session (the apiserver, say) locks rows in the middle of the table and keeps them.
  const locker = await pool.getConnection();
  await locker.query('SET SESSION innodb_lock_wait_timeout = 120');
  await locker.beginTransaction();
  await locker.query('SELECT `id` FROM `policy_audit` WHERE `id` BETWEEN 1000 AND 1100 FOR UPDATE');
  const daemon = await Instance.start(
    config('slow', 'iam_slow', `${LEASE_MS / 1000}s`, {
      clean: { schedule: '@every 2s', 'batch-size': BATCH, 'max-reserve-days': 180 },
    }),
    { builtCli: true, mysqlPassword: '' },
  );
  live.push(daemon);
  await daemon.started();
  const started = await daemon.waitFor(
    (l) => l.event === 'run.started' && l.watcher === 'clean',
    20_000,
    'run.started',
  );
  await until(
    'the batch to reach the locked rows',
    async () => ((await auditCounts(pool)).old <= OLD - 900 ? true : undefined),
    20_000,
  );
  await sleep(500);
  const blockedAt = (await auditCounts(pool)).old;
  await sleep(HOLD_MS);
  const stillBlocked = (await auditCounts(pool)).old;
  await locker.commit();
  locker.release();
  const finished = await daemon.waitFor(
    (l) => l.event === 'run.finished' && l.watcher === 'clean' && l.slot === started.slot,
    30_000,
    'the blocked run to finish',
  );
  const end = await auditCounts(pool);
  const leaseLost = await daemon.metric('iam_watcher_lease_lost_total', { watcher: 'clean' });
  const skippedOverlap = daemon.lines('run.skipped', 'clean').filter((l) => l.reason === 'overlap').length;
  const exit = await daemon.stop();
  const checks = {
    'the batch waited on the lock': stillBlocked === blockedAt && Number(finished.durationMs) >= HOLD_MS,
    'run ended ok': finished.result === 'ok',
    'no lease.lost line, metric 0': daemon.lines('lease.lost').length === 0 && leaseLost === 0,
    'slots during the wait skipped as overlap (lease held)': skippedOverlap >= Math.floor(HOLD_MS / 2000) - 1,
    'purge complete': end.old === 0,
    'exit 0': exit.code === 0,
  };
  const bad = Object.entries(checks)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const notes =
    `rows locked for ${HOLD_MS} ms (lease ${LEASE_MS} ms); the run took ${String(finished.durationMs)} ms, ended ${String(finished.result)}, ` +
    `${skippedOverlap} slots skipped as overlap meanwhile, lease losses ${leaseLost}` +
    (bad.length ? `; FAILED: ${bad.join('; ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: 'MariaDB slow (row locks)',
    checked: 'batch waits > lease, lease kept, run ok',
    slotsExpected: null,
    slotsRun: null,
    doubled: null,
    missed: null,
    rowsChecked: OLD + 100,
    pass: bad.length === 0,
    notes,
  });
  assert.deepEqual(bad, [], notes);
});
