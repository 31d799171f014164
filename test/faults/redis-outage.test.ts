/**
 * Fault 3: the coordination backend goes away (DESIGN §3 "Safety over liveness").
 *
 * 1. A private redis-server is killed for 15 s (10 s in the CI form) under three instances running a
 *    watcher every second: no slot runs without a claim, no instance crashes, each skipped slot is
 *    logged and counted in /metrics, the outage is logged once per instance, /readyz says not ready
 *    while /healthz stays ok, and runs resume as soon as Redis answers again.
 * 2. Redis restarted with empty memory (every claim and last-run record lost) right after a slot ran,
 *    and a new instance with catch-up starting just then: no past slot runs a second time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireBuild } from '../helpers/daemon.js';
import {
  Instance,
  countSlots,
  logsOf,
  startAll,
  untilMidSecond,
  type FaultConfig,
  type LogLine,
} from './lib/cluster.js';
import { PROFILE } from './lib/profile.js';
import { sleep } from './lib/procs.js';
import { recordRow } from './lib/results.js';
import { PrivateRedis } from './lib/servers.js';

const run = randomBytes(4).toString('hex');
const live: Instance[] = [];
const servers: PrivateRedis[] = [];

before(() => requireBuild());

after(async () => {
  for (const i of live) i.kill('SIGKILL');
  await Promise.all(live.map((i) => i.daemon.exited));
  for (const s of servers) await s.halt();
});

async function status(port: number, path: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/${path}`, { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

const slotMsOf = (l: LogLine): number => Date.parse(String(l.slot));

test(`Redis down ${PROFILE.redisOutageS} s under 3 instances: nothing runs unclaimed, skips counted, no crash, runs resume`, async (t) => {
  const redis = await PrivateRedis.start();
  servers.push(redis);
  const config = (i: number): FaultConfig => ({
    instanceId: `redis-${i}`,
    keyPrefix: `iamw-faults-${run}-outage`,
    redisPort: redis.port,
    lease: '3s',
    watchers: { probe: { schedule: '@every 1s', 'sleep-ms': 100 } },
  });
  const instances = await startAll([0, 1, 2].map((i) => ({ config: config(i) })));
  live.push(...instances);
  await untilMidSecond();
  const fromMs = Date.now() + 1000;
  await sleep(PROFILE.settleS * 1000);
  const haltAtMs = Date.now();
  await redis.halt();
  await sleep(Math.min(3000, (PROFILE.redisOutageS * 1000) / 2));
  const during = await Promise.all(
    instances.map(async (i) => ({
      ready: await status(i.healthPort, 'readyz'),
      health: await status(i.healthPort, 'healthz'),
    })),
  );
  await sleep(PROFILE.redisOutageS * 1000 - Math.min(3000, (PROFILE.redisOutageS * 1000) / 2));
  const resumeAtMs = Date.now();
  await redis.resume();
  await sleep(PROFILE.settleS * 1000);
  const toMs = Date.now() - 1000;
  await sleep(600);
  const metrics = await Promise.all(
    instances.map((i) =>
      i.metric('iam_watcher_slots_skipped_total', { watcher: 'probe', reason: 'backend-unavailable' }),
    ),
  );
  const alive = instances.map((i) => !i.exited);
  const exits = await Promise.all(instances.map((i) => i.stop()));

  const finished = instances.flatMap((i) => i.lines('run.finished', 'probe'));
  const unclaimed = finished.filter((l) => slotMsOf(l) > haltAtMs + 200 && slotMsOf(l) < resumeAtMs);
  const firstBack = Math.min(...finished.map(slotMsOf).filter((s) => s > resumeAtMs));
  const resumeMs = firstBack - resumeAtMs;
  const before = countSlots(logsOf(instances), 'probe', fromMs, haltAtMs - 500, 1000);
  const afterOutage = countSlots(logsOf(instances), 'probe', firstBack, toMs, 1000);
  const outageSlots = Math.floor(PROFILE.redisOutageS);
  const perInstance = instances.map((i, k) => {
    const skipped = i.lines('run.skipped', 'probe').filter((l) => l.reason === 'backend-unavailable').length;
    return {
      skipped,
      metric: metrics[k]!,
      downLines: i.lines('backend.unavailable').length,
      upLines: i.lines('backend.recovered').length,
    };
  });
  const doubled = new Set([...before.doubled, ...afterOutage.doubled]);
  const checks = {
    'no run without a claim': unclaimed.length === 0,
    'no crash, exit 0': alive.every(Boolean) && exits.every((e) => e.code === 0),
    'every skipped slot logged and counted': perInstance.every(
      (p) => p.skipped === p.metric && p.skipped >= outageSlots - 3,
    ),
    'outage logged once per instance': perInstance.every((p) => p.downLines === 1 && p.upLines === 1),
    'readyz 503 / healthz 200 during the outage': during.every((d) => d.ready === 503 && d.health === 200),
    'runs resume within one slot after Redis answers (1 s slots, 500 ms margin)': resumeMs <= 1500,
    'no slot missed or doubled outside the outage':
      before.missed.length + afterOutage.missed.length === 0 && doubled.size === 0,
  };
  const failed = Object.entries(checks)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  const notes =
    `first slot run ${resumeMs} ms after Redis was back; skipped/counted per instance ` +
    `${perInstance.map((p) => `${p.skipped}/${p.metric}`).join(', ')} for ~${outageSlots} outage slots; ` +
    `outage lines down/up ${perInstance.map((p) => `${p.downLines}/${p.upLines}`).join(', ')}; ` +
    `readyz/healthz during ${during.map((d) => `${d.ready}/${d.health}`).join(', ')}; unclaimed runs ${unclaimed.length}` +
    (failed.length ? `; FAILED: ${failed.join('; ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: `Redis outage ${PROFILE.redisOutageS} s`,
    checked: 'no unclaimed run, skips counted, logged once, resume, no crash',
    slotsExpected: before.expected + afterOutage.expected,
    slotsRun: before.run + afterOutage.run,
    doubled: doubled.size,
    missed: before.missed.length + afterOutage.missed.length,
    rowsChecked: null,
    pass: failed.length === 0,
    notes,
  });
  assert.deepEqual(failed, [], notes);
});

test('Redis restarted with empty memory right after a slot ran, a catch-up instance starting then: no slot runs twice', async (t) => {
  const redis = await PrivateRedis.start();
  servers.push(redis);
  const config = (i: number): FaultConfig => ({
    instanceId: `amnesia-${i}`,
    keyPrefix: `iamw-faults-${run}-amnesia`,
    redisPort: redis.port,
    lease: '3s',
    // Slots 10 s apart: the new instances come up (2-6 s on a busy machine) before the next slot,
    // so the slot just run is the one their start-up check finds unclaimed in the empty Redis.
    watchers: { probe: { schedule: '@every 10s', 'sleep-ms': 100, 'catch-up': '1m' } },
  });
  const instances = await startAll([0, 1, 2].map((i) => ({ config: config(i) })));
  live.push(...instances);
  const fromMs = Date.now() + 10_000;
  await sleep(3000);
  // Right after the next slot finished somewhere: wipe Redis, and start a fourth instance.
  const seen = instances.flatMap((i) => i.lines('run.finished', 'probe')).length;
  for (const deadline = Date.now() + 12_000; Date.now() < deadline; await sleep(10)) {
    if (instances.flatMap((i) => i.lines('run.finished', 'probe')).length > seen) break;
  }
  const wipedAfter = instances
    .flatMap((i) => i.lines('run.finished', 'probe'))
    .map((l) => String(l.slot))
    .sort()
    .at(-1);
  await redis.halt();
  await redis.resume();
  const wipedAtMs = Date.now();
  // A new instance, and a running one restarted, both come up into the empty Redis.
  const late = await Instance.start(config(3));
  live.push(late);
  await instances[0]!.stop();
  const back = instances[0]!.restart();
  live.push(back);
  await Promise.all([late.started(), back.started()]);
  const upMs = Date.now() - wipedAtMs;
  await sleep(Math.max(0, 21_000 - upMs));
  const toMs = Date.now() - 10_000;
  await sleep(600);
  const all = [...instances, late, back];
  const exits = await Promise.all(all.map((i) => i.stop()));
  const c = countSlots(logsOf(all), 'probe', fromMs, toMs, 10_000);
  // The fault only bites if the new instances checked before the next slot ran.
  const exercised = wipedAfter !== undefined && wipedAtMs + upMs < Date.parse(wipedAfter) + 10_000;
  const catchUps = all.flatMap((i) => i.lines('slot.catch-up', 'probe'));
  const pass = c.doubled.length === 0 && exits.every((e) => e.code === 0) && exercised;
  const notes =
    `Redis wiped right after slot ${wipedAfter ?? '?'} ran; 2 instances up ${upMs} ms later ` +
    `(${exercised ? 'before' : 'NOT before'} the next slot); catch-up runs: ` +
    `${catchUps.map((l) => `${String(l.instance)}@${String(l.slot)}`).join(' ') || 'none'}; ` +
    `missed slots in the window ${c.missed.length} (the wipe itself may cost one)` +
    (c.doubled.length ? `; DOUBLED: ${c.doubled.join(' ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: 'Redis restarted empty',
    checked: 'claims and last-run records lost; catch-up instance starts: no slot twice',
    slotsExpected: c.expected,
    slotsRun: c.run,
    doubled: c.doubled.length,
    missed: c.missed.length,
    rowsChecked: null,
    pass,
    notes,
  });
  assert.deepEqual(c.doubled, [], 'no slot runs twice');
  for (const e of exits) assert.equal(e.code, 0);
});
