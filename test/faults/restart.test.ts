/**
 * Faults 1 and 2: instances going away.
 *
 * 1. Rolling restart: three instances run a watcher every second; each in turn gets SIGTERM, exits,
 *    and comes back, one after another. Across all the logs no slot may be missed or run twice.
 *    Each SIGTERM lands between a slot's claim and its run (see the loop).
 * 2. SIGKILL of the lease holder in the middle of a long `clean` (thousands of old audit rows, a small
 *    batch size): the rows deleted at the kill are whole batches (each batch is a transaction), the
 *    next slot runs on the other instance once the lease frees, and the purge completes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireBuild } from '../helpers/daemon.js';
import { createTestDatabase, serverOptions, type TestDatabase } from '../helpers/mysql.js';
import { deleteKeys } from './lib/redis-keys.js';
import { Instance, countSlots, logsOf, startAll, untilMidSecond, type FaultConfig } from './lib/cluster.js';
import { auditCounts, seedAudit } from './lib/iam.js';
import { PROFILE } from './lib/profile.js';
import { sleep, until } from './lib/procs.js';
import { recordRow } from './lib/results.js';

const run = randomBytes(4).toString('hex');
const prefixes: string[] = [];
const live: Instance[] = [];
let db: TestDatabase | undefined;

before(() => requireBuild());

after(async () => {
  for (const i of live) i.kill('SIGKILL');
  await Promise.all(live.map((i) => i.daemon.exited));
  for (const p of prefixes) await deleteKeys(p);
  await db?.drop();
});

function prefix(name: string): string {
  const p = `iamw-faults-${run}-${name}`;
  prefixes.push(p);
  return p;
}

test('rolling restart of 3 instances (SIGTERM, back, one after another): no slot missed, none doubled', async (t) => {
  const keyPrefix = prefix('roll');
  const config = (i: number): FaultConfig => ({
    instanceId: `roll-${i}`,
    keyPrefix,
    lease: '5s',
    watchers: { probe: { schedule: '@every 1s', 'sleep-ms': 100 } },
  });
  const current = await startAll([0, 1, 2].map((i) => ({ config: config(i) })));
  const all = [...current];
  live.push(...current);
  await untilMidSecond();
  const fromMs = Date.now() + 1000;
  await sleep(PROFILE.settleS * 1000);
  const exits: Array<{ code: number | null; stopMs: number; startMs: number }> = [];
  for (let k = 0; k < 3; k++) {
    const old = current[k]!;
    // SIGTERM 150 ms before a slot: after the instances claimed it (up to 200 ms ahead), before it
    // runs. An instance that stops then must give the slot back for another to run it. (Not during
    // a run: shutdown aborts runs by design, which would count as a slot not ok.)
    await untilMidSecond(850);
    const t0 = Date.now();
    const exit = await old.stop();
    const stopMs = Date.now() - t0;
    const fresh = old.restart();
    live.push(fresh);
    all.push(fresh);
    current[k] = fresh;
    await fresh.started();
    exits.push({ code: exit.code, stopMs, startMs: Date.now() - t0 - stopMs });
    await sleep((PROFILE.settleS * 1000) / 2);
  }
  const toMs = Date.now() - 1000;
  await sleep(600);
  const finalExits = await Promise.all(current.map((i) => i.stop()));
  const c = countSlots(logsOf(all), 'probe', fromMs, toMs, 1000);
  const aborted = c.notOk.length;
  const pass =
    c.missed.length === 0 &&
    c.doubled.length === 0 &&
    aborted === 0 &&
    exits.every((e) => e.code === 0) &&
    finalExits.every((e) => e.code === 0);
  const notes =
    `SIGTERM->exit ${exits.map((e) => e.stopMs).join('/')} ms, back up in ${exits.map((e) => e.startMs).join('/')} ms; ` +
    `exit codes ${[...exits.map((e) => e.code), ...finalExits.map((e) => e.code)].join(',')}; ` +
    `runs per process ${JSON.stringify(c.perInstance)}` +
    (aborted ? `; ${aborted} slots not ok: ${c.notOk.join(' ')}` : '') +
    (c.missed.length ? `; missed ${c.missed.join(' ')}` : '') +
    (c.doubled.length ? `; doubled ${c.doubled.join(' ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: 'rolling restart',
    checked: '3 instances, @every 1s, each SIGTERM+restart in turn',
    slotsExpected: c.expected,
    slotsRun: c.run,
    doubled: c.doubled.length,
    missed: c.missed.length,
    rowsChecked: null,
    pass,
    notes,
  });
  assert.deepEqual(c.doubled, [], 'doubled slots');
  assert.deepEqual(c.missed, [], 'missed slots');
  assert.deepEqual(c.notOk, [], 'slots whose run did not end ok');
  for (const e of [...exits, ...finalExits]) assert.equal(e.code, 0, 'SIGTERM exits 0');
});

test('SIGKILL of the lease holder mid-clean: whole batches only, the other instance takes over, the purge completes', async (t) => {
  const BATCH = 20;
  const OLD = PROFILE.auditRows;
  const YOUNG = 500;
  const LEASE_MS = 3000;
  const INTERVAL_MS = 2000;
  db = await createTestDatabase();
  await seedAudit(db.pool, OLD, YOUNG);
  const keyPrefix = prefix('holder');
  const my = serverOptions();
  const config = (i: number): FaultConfig => ({
    instanceId: `holder-${i}`,
    keyPrefix,
    lease: `${LEASE_MS / 1000}s`,
    mysql: {
      host: my.host ?? '127.0.0.1',
      port: my.port ?? 3306,
      user: my.user ?? 'root',
      password: my.password ?? '',
      database: db!.name,
    },
    watchers: { clean: { schedule: '@every 2s', 'batch-size': BATCH, 'max-reserve-days': 180 } },
  });
  const instances = await startAll([0, 1].map((i) => ({ config: config(i), opts: { builtCli: true } })));
  live.push(...instances);
  const pool = db.pool;
  // Wait until a run is well under way, then kill whichever instance holds it.
  await until(
    'the purge to be under way',
    async () => ((await auditCounts(pool)).old <= OLD - 5 * BATCH ? true : undefined),
    30_000,
  );
  const holder = instances.find((i) =>
    i
      .lines('run.started', 'clean')
      .some((s) => !i.lines('run.finished', 'clean').some((f) => f.slot === s.slot)),
  );
  assert.ok(holder, 'one instance runs clean');
  const other = instances.find((i) => i !== holder)!;
  const killedAtMs = Date.now();
  holder.kill('SIGKILL');
  await holder.daemon.exited;
  const afterKill = await auditCounts(pool);
  await sleep(300);
  const settled = await auditCounts(pool);
  const deletedAtKill = OLD - settled.old;
  const takeover = await other.waitFor(
    (l) => l.event === 'run.started' && l.watcher === 'clean' && Date.parse(String(l.time)) > killedAtMs,
    LEASE_MS + INTERVAL_MS + 15_000,
    'a clean run on the surviving instance',
  );
  const takeoverMs = Date.parse(String(takeover.time)) - killedAtMs;
  const finished = await other.waitFor(
    (l) => l.event === 'run.finished' && l.watcher === 'clean' && l.slot === takeover.slot,
    120_000,
    'the surviving run to finish',
  );
  const end = await auditCounts(pool);
  const stop = await other.stop();
  const wholeBatches = deletedAtKill % BATCH === 0 && afterKill.old === settled.old;
  const pass =
    wholeBatches &&
    takeoverMs <= LEASE_MS + INTERVAL_MS + 1000 &&
    finished.result === 'ok' &&
    end.old === 0 &&
    end.young === YOUNG &&
    stop.code === 0;
  const notes =
    `${deletedAtKill} of ${OLD} old rows deleted at the kill (batch ${BATCH}: ${deletedAtKill % BATCH === 0 ? 'whole batches' : 'HALF BATCH'}); ` +
    `next run on the other instance ${takeoverMs} ms after the kill (lease ${LEASE_MS} ms, slots every ${INTERVAL_MS} ms); ` +
    `it ended ${String(finished.result)} deleting ${String(finished.deleted)} in ${String(finished.durationMs)} ms; left old ${end.old}, young ${end.young}/${YOUNG}`;
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: 'SIGKILL lease holder mid-clean',
    checked: 'whole batches, takeover within lease+slot, purge completes',
    slotsExpected: null,
    slotsRun: null,
    doubled: null,
    missed: null,
    rowsChecked: OLD + YOUNG,
    pass,
    notes,
  });
  assert.equal(deletedAtKill % BATCH, 0, 'rows deleted at the kill are whole batches');
  assert.ok(takeoverMs <= LEASE_MS + INTERVAL_MS + 1000, `takeover after ${takeoverMs} ms`);
  assert.equal(finished.result, 'ok');
  assert.deepEqual(end, { old: 0, young: YOUNG });
  assert.equal(stop.code, 0);
});
