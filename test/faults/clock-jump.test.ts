/**
 * Fault 5: the wall clock of one instance jumps (an NTP step, a VM resumed): forward by 10 s, then
 * back by 10 s, while three instances run a watcher every second. libfaketime moves that instance's
 * wall clock through a timestamp file it re-reads on every call; its monotonic clock (Node's timers)
 * is left alone, as in a real clock step.
 *
 * Checked: no slot runs twice anywhere; every slot of the window runs, or is skipped as an overlap and
 * counted (see below); the jumped instance does
 * not fire a burst of old slots after either jump (at most one attempt per slot time, never more than
 * 3 within a second), and keeps going (attempts again within 3 s after the forward jump, and within
 * the jump plus 3 s after the backward one: the slots its clock now repeats were already claimed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBuild, tempDir } from '../helpers/daemon.js';
import { deleteKeys } from './lib/redis-keys.js';
import { Instance, countSlots, logsOf, startAll, untilMidSecond, type FaultConfig } from './lib/cluster.js';
import { PROFILE } from './lib/profile.js';
import { sleep } from './lib/procs.js';
import { recordRow } from './lib/results.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const JUMP_S = 10;
const run = randomBytes(4).toString('hex');
const keyPrefix = `iamw-faults-${run}-clock`;
const live: Instance[] = [];

before(() => {
  requireBuild();
  assert.ok(existsSync(LIBFAKETIME), `${LIBFAKETIME} is missing (Debian package faketime)`);
});

after(async () => {
  for (const i of live) i.kill('SIGKILL');
  await Promise.all(live.map((i) => i.daemon.exited));
  await deleteKeys(keyPrefix);
});

/** Slot attempts (ran or skipped) of the probe, with the test's clock when each line arrived. */
function attempts(i: Instance): Array<{ atMs: number; slot: string; event: string }> {
  return i.received
    .filter(
      (r) =>
        r.line.watcher === 'probe' && (r.line.event === 'run.finished' || r.line.event === 'run.skipped'),
    )
    .map((r) => ({ atMs: r.atMs, slot: String(r.line.slot), event: String(r.line.event) }));
}

test(`one instance's clock jumps +${JUMP_S} s and back: no slot twice, no burst, it keeps going`, async (t) => {
  const stamp = join(tempDir('iamw-faults-clock-'), 'faketime');
  writeFileSync(stamp, '+0\n');
  const config = (i: number): FaultConfig => ({
    instanceId: `clock-${i}`,
    keyPrefix,
    lease: '5s',
    watchers: { probe: { schedule: '@every 1s', 'sleep-ms': 100 } },
  });
  const env = {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: stamp,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
  const instances = await startAll([
    { config: config(0) },
    { config: config(1) },
    { config: config(2), opts: { env } },
  ]);
  live.push(...instances);
  const jumped = instances[2]!;
  await untilMidSecond();
  const fromMs = Date.now() + 1000;
  await sleep(PROFILE.settleS * 1000);
  const forwardAtMs = Date.now();
  writeFileSync(stamp, `+${JUMP_S}\n`);
  await sleep(PROFILE.settleS * 1000 + 2000);
  const backAtMs = Date.now();
  writeFileSync(stamp, '+0\n');
  await sleep(PROFILE.settleS * 1000 + JUMP_S * 1000 + 1000);
  const toMs = Date.now() - 1000;
  await sleep(600);
  const exits = await Promise.all(instances.map((i) => i.stop()));

  const c = countSlots(logsOf(instances), 'probe', fromMs, toMs, 1000);
  const tries = attempts(jumped);
  const perSlot = new Map<string, number>();
  for (const a of tries) perSlot.set(a.slot, (perSlot.get(a.slot) ?? 0) + 1);
  const repeatedSlots = [...perSlot].filter(([, n]) => n > 1).map(([s]) => s);
  let maxPerSecond = 0;
  for (const a of tries) {
    maxPerSecond = Math.max(
      maxPerSecond,
      tries.filter((b) => b.atMs >= a.atMs && b.atMs < a.atMs + 1000).length,
    );
  }
  const firstAfter = (ms: number): number =>
    Math.min(...tries.filter((a) => a.atMs > ms + 50).map((a) => a.atMs)) - ms;
  const resumeForwardMs = firstAfter(forwardAtMs);
  // After the backward jump the attempt for the slot armed before it may still come; look past it.
  const afterBack = tries.filter((a) => a.atMs > backAtMs + 50);
  const secondAfterBack = afterBack[1] ? afterBack[1].atMs - backAtMs : Infinity;
  const missedLines = jumped.lines('slot.missed', 'probe');
  const lateCount = missedLines.reduce((n, l) => n + Number(l.count ?? 0), 0);
  const ranEarly = jumped.received.filter(
    (r) =>
      r.line.event === 'run.finished' &&
      r.line.watcher === 'probe' &&
      Date.parse(String(r.line.slot)) > r.atMs + 500,
  ).length;
  // A clock ahead of the others attempts slot S while they run slot S - jump: with overlap "skip"
  // the cluster-wide running lease is held, so S is skipped (logged, counted) instead of run.
  const overlapSkips = new Set(
    instances.flatMap((i) =>
      i
        .lines('run.skipped', 'probe')
        .filter((l) => l.reason === 'overlap')
        .map((l) => String(l.slot)),
    ),
  );
  const unaccounted = c.missed.filter((s) => !overlapSkips.has(s));
  const checks = {
    'no slot twice': c.doubled.length === 0,
    'every slot ran, or was skipped and counted as overlap': unaccounted.length === 0 && c.notOk.length === 0,
    'no burst (<= 3 attempts a second, no slot tried twice by the jumped instance)':
      maxPerSecond <= 3 && repeatedSlots.length === 0,
    'keeps going after the forward jump (<= 3 s)': resumeForwardMs <= 3000,
    [`keeps going after the backward jump (<= ${JUMP_S + 3} s)`]: secondAfterBack <= (JUMP_S + 3) * 1000,
    'exit 0': exits.every((e) => e.code === 0),
  };
  const bad = Object.entries(checks)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const notes =
    `jumped instance: next attempt ${resumeForwardMs} ms after +${JUMP_S} s, ${secondAfterBack} ms after -${JUMP_S} s; ` +
    `max ${maxPerSecond} attempts in a second; slot.missed (late) ${lateCount} after the forward jump; ` +
    `${ranEarly} slots it ran ahead of the others' clocks; ${c.missed.length - unaccounted.length} slots not run because ` +
    `the early instance found the previous slot's run still running (overlap skip, counted); runs per instance ${JSON.stringify(c.perInstance)}` +
    (repeatedSlots.length ? `; slots it tried twice: ${repeatedSlots.join(' ')}` : '') +
    (bad.length ? `; FAILED: ${bad.join('; ')}` : '');
  t.diagnostic(notes);
  recordRow(import.meta.url, {
    fault: `clock jump +${JUMP_S} s / -${JUMP_S} s`,
    checked: '1 of 3 instances: no double, no burst, keeps going',
    slotsExpected: c.expected,
    slotsRun: c.run,
    doubled: c.doubled.length,
    missed: c.missed.length,
    rowsChecked: null,
    pass: bad.length === 0,
    notes,
  });
  assert.deepEqual(bad, [], notes);
});
