/**
 * Fault 6: a watcher blocks the event loop for longer than the lease (the fixture's `block-ms`), on
 * one of three instances. Its lease runs out in Redis while it cannot extend it; the other instances
 * take over the later slots. Checked: the loss is noticed, logged (`lease.lost`) and counted
 * (`iam_watcher_lease_lost_total`), the stalled slot does not run a second time, the slots the stalled
 * instance overslept are counted as missed, and no slot anywhere runs twice.
 *
 * Two shapes of stall: the run blocks and then still has work (its abortable wait: it must be
 * aborted), and the run blocks and returns at once (the loss must still be noticed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireBuild } from '../helpers/daemon.js';
import { deleteKeys } from './lib/redis-keys.js';
import { Instance, countSlots, logsOf, startAll, untilMidSecond, type FaultConfig } from './lib/cluster.js';
import { sleep } from './lib/procs.js';
import { recordRow } from './lib/results.js';

const run = randomBytes(4).toString('hex');
const live: Instance[] = [];
const prefixes: string[] = [];
const LEASE_MS = 2000;
const BLOCK_MS = 5000;

before(() => requireBuild());

after(async () => {
  for (const i of live) i.kill('SIGKILL');
  await Promise.all(live.map((i) => i.daemon.exited));
  for (const p of prefixes) await deleteKeys(p);
});

/** The number of `lease.lost` lines once it reaches `count`, or when `withinMs` have passed. */
async function linesReaching(i: Instance, count: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let n = i.lines('lease.lost', 'probe').length;
  while (n < count && Date.now() < deadline) {
    await sleep(20);
    n = i.lines('lease.lost', 'probe').length;
  }
  return n;
}

async function stall(
  t: { diagnostic(m: string): void },
  variant: 'then waits' | 'then returns',
): Promise<void> {
  const keyPrefix = `iamw-faults-${run}-stall-${variant === 'then waits' ? 'w' : 'r'}`;
  prefixes.push(keyPrefix);
  const afterBlockMs = variant === 'then waits' ? 1500 : 0;
  const config = (i: number, stalls: boolean): FaultConfig => ({
    instanceId: `stall-${i}`,
    keyPrefix,
    lease: `${LEASE_MS / 1000}s`,
    watchers: {
      probe: stalls
        ? { schedule: '@every 1s', 'block-ms': BLOCK_MS, 'sleep-ms': afterBlockMs }
        : { schedule: '@every 1s', 'sleep-ms': 100 },
    },
  });
  // The stalling instance starts alone, so that it holds the first slot; the others join after.
  const [stalled] = await startAll([{ config: config(0, true) }]);
  live.push(stalled!);
  await untilMidSecond(200);
  const others = await startAll([{ config: config(1, false) }, { config: config(2, false) }]);
  live.push(...others);
  const instances = [stalled!, ...others];
  const firstStall = await stalled!.waitFor(
    (l) => l.event === 'run.started' && l.watcher === 'probe',
    15_000,
    'a run',
  );
  const fromMs = Date.parse(String(firstStall.slot));
  // Let it stall a couple of times (it stalls on every slot it wins), then stop it.
  await sleep(2 * BLOCK_MS + 3000);
  // The stalled instance answers once its loop is free again. It may stall again afterwards (it
  // stalls on every slot it wins): the metric is compared with the lines logged around the scrape.
  const linesBeforeScrape = stalled!.lines('lease.lost', 'probe').length;
  const lostMetric = await stalled!.metric(
    'iam_watcher_lease_lost_total',
    { watcher: 'probe' },
    BLOCK_MS + 5000,
  );
  // The counter moves when the loss is noticed; its line reaches the log at the end of that
  // event-loop turn and then crosses a pipe to this process. Wait until the lines have caught up
  // with the count scraped, or 2 s (less than a stall, so no loss after the scrape can stand in).
  const linesAfterScrape = await linesReaching(stalled!, lostMetric, 2000);
  const missedMetric = await stalled!.metric(
    'iam_watcher_slots_missed_total',
    { watcher: 'probe' },
    BLOCK_MS + 5000,
  );
  const toMs = Date.now() - 1000;
  await sleep(600);
  const exits = await Promise.all(instances.map((i) => i.stop(BLOCK_MS + 15_000)));

  const c = countSlots(logsOf(instances), 'probe', fromMs, toMs, 1000);
  const stalledRuns = stalled!.lines('run.finished', 'probe');
  const lostLines = stalled!.lines('lease.lost', 'probe');
  const lostSlots = new Set(lostLines.map((l) => String(l.slot)));
  const overlap = new Set(
    instances.flatMap((i) =>
      i
        .lines('run.skipped', 'probe')
        .filter((l) => l.reason === 'overlap')
        .map((l) => String(l.slot)),
    ),
  );
  const missedLines = instances.flatMap((i) => i.lines('slot.missed', 'probe'));
  const missedCovered = new Set<string>();
  for (const l of missedLines) {
    for (let s = Date.parse(String(l.first)); s <= Date.parse(String(l.last)); s += 1000)
      missedCovered.add(new Date(s).toISOString());
  }
  const unaccounted = c.missed.filter((s) => !overlap.has(s) && !missedCovered.has(s));
  const checks = {
    'every stalled run lost its lease, logged':
      stalledRuns.length > 0 && stalledRuns.every((r) => lostSlots.has(String(r.slot))),
    'lease losses counted in /metrics':
      lostMetric >= 1 && lostMetric >= linesBeforeScrape && lostMetric <= linesAfterScrape,
    ...(variant === 'then waits'
      ? { 'stalled runs aborted': stalledRuns.every((r) => r.result === 'aborted') }
      : {}),
    'no slot twice': c.doubled.length === 0,
    'overslept slots counted as missed': missedMetric >= 1,
    'every slot not run is accounted (overlap skip or counted missed)': unaccounted.length === 0,
    'exit 0': exits.every((e) => e.code === 0),
  };
  const bad = Object.entries(checks)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const notes =
    `stalled runs ${stalledRuns.length} (${stalledRuns.map((r) => String(r.result)).join(',')}), lease.lost lines ${lostLines.length}, ` +
    `metric ${lostMetric}; missed counted ${missedMetric}; slots not run ${c.missed.length} ` +
    `(overlap-skipped while the lease still held, or overslept)` +
    (unaccounted.length ? `; unaccounted: ${unaccounted.join(' ')}` : '') +
    (bad.length ? `; FAILED: ${bad.join('; ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: `loop stall ${BLOCK_MS / 1000} s > lease ${LEASE_MS / 1000} s, ${variant}`,
    checked: 'lease loss logged+counted, no slot twice, overslept counted',
    slotsExpected: c.expected,
    slotsRun: c.run,
    doubled: c.doubled.length,
    missed: c.missed.length,
    rowsChecked: null,
    pass: bad.length === 0,
    notes,
  });
  assert.deepEqual(bad, [], notes);
}

test('event loop blocked past the lease, then the run still waits: lease loss noticed, run aborted, no slot twice', (t) =>
  stall(t, 'then waits'));

test('event loop blocked past the lease, then the run returns at once: lease loss still noticed and counted', (t) =>
  stall(t, 'then returns'));
