/**
 * Fault 8, soak: three instances run 20 watchers on short periods (1 s, 2 s, 3 s and 5 s) for
 * SOAK_MINUTES (10 by default; about 1 in the CI form). Every few seconds each instance's /metrics is
 * sampled for resident memory and active handles; both must stay flat (the last third of the run
 * against the first third, after a warm-up), and every slot of every watcher must run exactly once
 * across the three logs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireBuild } from '../helpers/daemon.js';
import { deleteKeys } from './lib/redis-keys.js';
import {
  Instance,
  countSlots,
  logsOf,
  metricValue,
  startAll,
  untilMidSecond,
  type FaultConfig,
  type WatcherKeys,
} from './lib/cluster.js';
import { PROFILE } from './lib/profile.js';
import { sleep } from './lib/procs.js';
import { recordRow } from './lib/results.js';

const WATCHERS = 20;
const PERIODS_S = [1, 2, 3, 5];
const run = randomBytes(4).toString('hex');
const keyPrefix = `iamw-faults-${run}-soak`;
const live: Instance[] = [];

before(() => requireBuild());

after(async () => {
  for (const i of live) i.kill('SIGKILL');
  await Promise.all(live.map((i) => i.daemon.exited));
  await deleteKeys(keyPrefix);
});

const name = (i: number): string => `soak${String(i).padStart(2, '0')}`;
const periodOf = (i: number): number => PERIODS_S[(i - 1) % PERIODS_S.length]!;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
}

test(`soak: 3 instances, ${WATCHERS} watchers, ${PROFILE.soakMinutes} min: RSS and handles flat, no slot missed or doubled`, async (t) => {
  const durationMs = PROFILE.soakMinutes * 60_000;
  const sampleEveryMs = durationMs <= 120_000 ? 3000 : 10_000;
  const watchers: Record<string, WatcherKeys> = {};
  for (let i = 1; i <= WATCHERS; i++)
    watchers[name(i)] = { schedule: `@every ${periodOf(i)}s`, 'sleep-ms': 20 + (i % 5) * 10 };
  const config = (k: number): FaultConfig => ({
    instanceId: `soak-${k}`,
    keyPrefix,
    lease: '5s',
    logLevel: 'info',
    watchers,
  });
  const env = { PROBE_SOAK_WATCHERS: String(WATCHERS) };
  const instances = await startAll([0, 1, 2].map((k) => ({ config: config(k), opts: { env } })));
  live.push(...instances);
  await untilMidSecond();
  const fromMs = Date.now() + 1000;
  const samples: Array<{ atMs: number; rss: number[]; handles: number[] }> = [];
  const endAt = Date.now() + durationMs;
  while (Date.now() < endAt) {
    const texts = await Promise.all(instances.map((i) => i.metricsText(5000)));
    samples.push({
      atMs: Date.now(),
      rss: texts.map((x) => metricValue(x, 'process_resident_memory_bytes') / 2 ** 20),
      handles: texts.map((x) => metricValue(x, 'nodejs_active_handles_total')),
    });
    await sleep(Math.min(sampleEveryMs, Math.max(0, endAt - Date.now())));
  }
  const toMs = Date.now() - 6000;
  await sleep(600);
  const alive = instances.every((i) => !i.exited);
  const exits = await Promise.all(instances.map((i) => i.stop()));

  let expected = 0;
  let ran = 0;
  const doubled: string[] = [];
  const missed: string[] = [];
  const notOk: string[] = [];
  for (let i = 1; i <= WATCHERS; i++) {
    const c = countSlots(logsOf(instances), name(i), fromMs, toMs, periodOf(i) * 1000);
    expected += c.expected;
    ran += c.run;
    doubled.push(...c.doubled.map((s) => `${name(i)}@${s}`));
    missed.push(...c.missed.map((s) => `${name(i)}@${s}`));
    notOk.push(...c.notOk.map((s) => `${name(i)}@${s}`));
  }
  // Flatness: the last third of the samples against the first third after a warm-up of a fifth.
  const warm = samples.filter((s) => s.atMs >= fromMs + durationMs / 5);
  const third = Math.max(1, Math.floor(warm.length / 3));
  const early = warm.slice(0, third);
  const late = warm.slice(-third);
  const growth = instances.map((_, k) => ({
    rssEarly: median(early.map((s) => s.rss[k]!)),
    rssLate: median(late.map((s) => s.rss[k]!)),
    rssMax: Math.max(...samples.map((s) => s.rss[k]!)),
    handlesEarly: Math.max(...early.map((s) => s.handles[k]!)),
    handlesLate: Math.max(...late.map((s) => s.handles[k]!)),
  }));
  const rssFlat = growth.every((g) => g.rssLate - g.rssEarly <= Math.max(10, g.rssEarly * 0.1));
  const handlesFlat = growth.every((g) => g.handlesLate <= g.handlesEarly + 2);
  const checks = {
    'RSS flat (last third within max(10 MB, 10%) of the first)': rssFlat,
    'active handles flat (within +2)': handlesFlat,
    'no slot missed': missed.length === 0 && notOk.length === 0,
    'no slot doubled': doubled.length === 0,
    'no crash, exit 0': alive && exits.every((e) => e.code === 0),
    'enough samples': warm.length >= 6,
  };
  const bad = Object.entries(checks)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const notes =
    `${samples.length} samples; RSS MB first->last third per instance ` +
    growth
      .map((g) => `${g.rssEarly.toFixed(1)}->${g.rssLate.toFixed(1)} (max ${g.rssMax.toFixed(1)})`)
      .join(', ') +
    `; handles ${growth.map((g) => `${g.handlesEarly}->${g.handlesLate}`).join(', ')}` +
    (missed.length ? `; missed ${missed.slice(0, 5).join(' ')}` : '') +
    (doubled.length ? `; doubled ${doubled.slice(0, 5).join(' ')}` : '') +
    (bad.length ? `; FAILED: ${bad.join('; ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: `soak ${PROFILE.soakMinutes} min`,
    checked: `3 instances x ${WATCHERS} watchers (1-5 s): RSS, handles, slots`,
    slotsExpected: expected,
    slotsRun: ran,
    doubled: doubled.length,
    missed: missed.length,
    rowsChecked: null,
    pass: bad.length === 0,
    notes,
  });
  assert.deepEqual(bad, [], notes);
});
