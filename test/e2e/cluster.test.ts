/**
 * Three daemons on one Redis, spawned as an operator runs them (issue 3, "Tests"): every slot of a
 * per-second watcher runs exactly once across the three logs, also with clocks 2 s apart and while an
 * instance is SIGKILLed and restarted; a fixed-delay chain keeps its delay whichever instance runs.
 *
 * The window is E2E_CLUSTER_SECONDS long (default 20, for `make test`); `E2E_CLUSTER_SECONDS=60`
 * gives the length. The daemons run test/fixtures/probe-daemon.ts: the real daemon plus
 * a `probe` watcher whose run time the config sets.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { requireBuild } from '../helpers/daemon.js';
import {
  cleanUpCluster as cleanUp,
  sleep,
  slotReport,
  startAll,
  untilMidSecond,
  type Instance,
  type InstanceOptions,
  type LogLine,
  type ProbeConfig,
} from '../helpers/cluster.js';

const WINDOW_S = Number(process.env.E2E_CLUSTER_SECONDS ?? 20);
const SECOND = 1000;
const run = randomBytes(4).toString('hex');
let seq = 0;

before(() => {
  requireBuild();
  assert.ok(Number.isFinite(WINDOW_S) && WINDOW_S >= 5, 'E2E_CLUSTER_SECONDS must be at least 5');
});

/** A key prefix of its own for one test. */
function freshPrefix(): string {
  seq += 1;
  return `iamw-e2e-cluster-${run}-${seq}`;
}

/** For each checked slot, how many instances tried it (ran it, or found it claimed). */
function attemptsPerSlot(lines: readonly LogLine[], fromMs: number, toMs: number): number[] {
  const tries = new Map<string, number>();
  for (const l of lines) {
    const tried = l.event === 'run.finished' || (l.event === 'run.skipped' && l.reason === 'claimed');
    if (!tried || l.watcher !== 'probe') continue;
    tries.set(String(l.slot), (tries.get(String(l.slot)) ?? 0) + 1);
  }
  const out: number[] = [];
  for (let t = Math.ceil(fromMs / SECOND) * SECOND; t <= toMs; t += SECOND) {
    out.push(tries.get(new Date(t).toISOString()) ?? 0);
  }
  return out;
}

/** Stops every instance with SIGTERM and checks each exits 0. */
async function stopAll(instances: readonly Instance[]): Promise<void> {
  const exits = await Promise.all(instances.map((i) => i.stop()));
  exits.forEach((e, k) => assert.equal(e.code, 0, `${instances[k]?.name}: ${instances[k]?.daemon.stderr}`));
}

/** Runs three instances (clocks optionally shifted by faketime) for the window; returns the checks. */
async function exactlyOnce(
  t: { diagnostic(msg: string): void },
  clocks: ReadonlyArray<string | undefined>,
  opts: {
    /** Something to do to the cluster inside the window; returns instances it started. */
    during?: (instances: Instance[], fromMs: number) => Promise<Instance[]>;
    /** How far the fastest or slowest clock is off: the slowest tries a slot this much later. */
    skewMs?: number;
  } = {},
) {
  const prefix = freshPrefix();
  const configs = ['a', 'b', 'c'].map((id, k): { config: ProbeConfig; opts: InstanceOptions } => ({
    config: { instanceId: id, keyPrefix: prefix },
    opts: clocks[k] === undefined ? {} : { faketime: clocks[k] },
  }));
  const instances = await startAll(configs);
  const all = [...instances];
  let failed = true;
  try {
    const fromMs = Date.now();
    const endMs = fromMs + WINDOW_S * SECOND;
    if (opts.during) all.push(...(await opts.during(instances, fromMs)));
    await sleep(Math.max(0, endMs - Date.now()));
    const toMs = Date.now();
    await stopAll(all.filter((i) => !i.exited));
    const logs = all.map((i) => ({ name: i.name, lines: i.lines() }));
    // The first and last second of the window are not checked: instances start and stop there.
    const checkFromMs = fromMs + SECOND;
    const report = slotReport(logs, checkFromMs, toMs - SECOND, SECOND);
    // A fast clock reached the window's first slots before its instance started, and a slow one
    // reaches the last slots after the window: count competitors only where all three could be.
    const attempts = attemptsPerSlot(
      all.flatMap((i) => i.lines()),
      checkFromMs + (opts.skewMs ?? 0),
      toMs - SECOND - (opts.skewMs ?? 0),
    );
    t.diagnostic(
      `slots checked ${report.slots}, exactly once ${report.once}, doubled ${report.doubled.length}, ` +
        `missed ${report.missed.length}, not ok ${report.notOk.length}, runs per instance ` +
        `${JSON.stringify(report.perInstance)}, instances trying each slot: ` +
        `min ${Math.min(...attempts)} max ${Math.max(...attempts)}`,
    );
    assert.ok(report.slots >= WINDOW_S - 3, `only ${report.slots} slots checked`);
    assert.deepEqual(report.doubled, [], 'slots run twice');
    assert.deepEqual(report.missed, [], 'slots run by nobody');
    assert.deepEqual(report.notOk, [], 'slots whose run did not end ok');
    assert.equal(report.once, report.slots);
    failed = false;
    return { instances: all, report, attempts };
  } finally {
    await cleanUp(t, all, prefix, failed);
  }
}

test(`3 instances, @every 1s for ${WINDOW_S}s: every slot runs exactly once across the logs`, async (t) => {
  const { attempts, report } = await exactlyOnce(t, [undefined, undefined, undefined]);
  // All three competed for every slot, so "once" is the claim's doing, not luck.
  assert.ok(
    attempts.every((n) => n === 3),
    `instances trying each slot: ${attempts.join(',')}`,
  );
  assert.equal(Object.keys(report.perInstance).length, 3, JSON.stringify(report.perInstance));
});

test('clocks at -2 s, 0 and +2 s (faketime): every slot still runs exactly once', async (t) => {
  // The instances start within a few ms of each other, so for the first seconds the three fire at the
  // same real instants for three different slots (their clocks 2 s apart, slots 1 s apart): the
  // slower ones reach slots the +2 s instance never tried, while its run of a later slot holds the
  // overlap lease. Overlap `skip` re-tries that lease briefly before skipping, so those slots run
  // too: the whole window is checked, start-up included.
  const { instances, attempts } = await exactlyOnce(t, ['-2s', undefined, '+2s'], {
    skewMs: 2 * SECOND,
  });
  // faketime really moved the daemons' clocks: their log timestamps say so.
  const [slow, plain, fast] = instances.map((i) => i.clockOffsetMs());
  t.diagnostic(`clock offsets seen in the logs: ${slow} ms, ${plain} ms, ${fast} ms`);
  assert.ok(Math.abs(plain!) < 500, `unshifted instance is ${plain} ms off`);
  assert.ok(Math.abs(slow! - plain! + 2000) < 500, `-2s instance is ${slow! - plain!} ms off`);
  assert.ok(Math.abs(fast! - plain! - 2000) < 500, `+2s instance is ${fast! - plain!} ms off`);
  assert.ok(
    attempts.every((n) => n === 3),
    `instances trying each slot: ${attempts.join(',')}`,
  );
});

test('an instance SIGKILLed mid-window and restarted: no slot doubled, none missed', async (t) => {
  let killedAt = 0;
  let backAt = 0;
  const { report } = await exactlyOnce(t, [undefined, undefined, undefined], {
    during: async (instances, fromMs) => {
      await sleep(Math.max(0, fromMs + (WINDOW_S * SECOND) / 3 - Date.now()));
      // Half-way between two slots: the victim is not inside a run, so no claimed slot dies with it.
      await untilMidSecond();
      const victim = instances[1]!;
      victim.kill('SIGKILL');
      killedAt = Date.now();
      const exit = await victim.daemon.exited;
      assert.equal(exit.signal, 'SIGKILL');
      const again = victim.restart();
      await again.waitFor((l) => l.event === 'daemon.started');
      backAt = Date.now();
      return [again];
    },
  });
  t.diagnostic(`killed at +${killedAt % 60_000} ms of the minute, back after ${backAt - killedAt} ms`);
  assert.ok(backAt > killedAt);
  assert.ok(report.slots >= WINDOW_S - 3);
});

test('fixed-delay @every 2s with 1 s runs on 3 instances: each run starts 2 s after the previous ended', async (t) => {
  const prefix = freshPrefix();
  const config = (id: string): { config: ProbeConfig } => ({
    config: { instanceId: id, keyPrefix: prefix, schedule: '@every 2s', mode: 'fixed-delay', sleepMs: 1000 },
  });
  const instances = await startAll([config('a'), config('b'), config('c')]);
  let failed = true;
  try {
    await sleep((WINDOW_S + 4) * SECOND);
    await stopAll(instances);
    const finished = instances
      .flatMap((i) => i.probe('run.finished'))
      .filter((l) => l.result === 'ok')
      .sort((x, y) => Date.parse(String(x.slot)) - Date.parse(String(y.slot)));
    const aborted = instances.flatMap((i) => i.probe('run.finished')).filter((l) => l.result !== 'ok');
    // SIGTERM aborts the run in flight, if any; that one is not part of the chain checked here.
    assert.ok(
      aborted.every((l) => l.result === 'aborted'),
      JSON.stringify(aborted),
    );
    const slots = finished.map((l) => String(l.slot));
    assert.equal(new Set(slots).size, slots.length, `a slot ran twice: ${slots.join(' ')}`);
    const started = new Map(
      instances
        .flatMap((i) => i.probe('run.started'))
        .map((l) => [`${String(l.slot)} ${String(l.instance)}`, l]),
    );
    const gaps: Array<{ probe: number; scheduler: number; from: string; to: string }> = [];
    for (let k = 1; k < finished.length; k++) {
      const prev = finished[k - 1]!;
      const next = finished[k]!;
      const prevStart = started.get(`${String(prev.slot)} ${String(prev.instance)}`);
      const nextStart = started.get(`${String(next.slot)} ${String(next.instance)}`);
      assert.ok(prevStart && nextStart, 'every run logs run.started');
      gaps.push({
        // The watcher's own view: its start minus the previous run's end.
        probe: Number(next.probeStartMs) - Number(prev.probeEndMs),
        // The scheduler's: run.started of the next minus (run.started + durationMs) of the previous.
        scheduler:
          Date.parse(String(nextStart.time)) - (Date.parse(String(prevStart.time)) + Number(prev.durationMs)),
        from: String(prev.instance),
        to: String(next.instance),
      });
    }
    const probe = gaps.map((g) => g.probe - 2000);
    const sched = gaps.map((g) => g.scheduler - 2000);
    const handOvers = gaps.filter((g) => g.from !== g.to).length;
    t.diagnostic(
      `${finished.length} runs, ${gaps.length} gaps (${handOvers} to another instance); gap - 2000 ms: ` +
        `watcher view min ${Math.min(...probe)} max ${Math.max(...probe)}, ` +
        `scheduler view min ${Math.min(...sched)} max ${Math.max(...sched)}; ` +
        `runs per instance ${JSON.stringify(Object.fromEntries(instances.map((i) => [i.name, i.probe('run.finished').length])))}`,
    );
    assert.ok(gaps.length >= Math.floor(WINDOW_S / 3) - 1, `only ${gaps.length} gaps`);
    for (const g of gaps) {
      assert.ok(
        Math.abs(g.probe - 2000) <= 100,
        `gap ${g.probe} ms (${g.from} -> ${g.to}): ${JSON.stringify(gaps)}`,
      );
      assert.ok(Math.abs(g.scheduler - 2000) <= 100, `gap ${g.scheduler} ms: ${JSON.stringify(gaps)}`);
    }
    failed = false;
  } finally {
    await cleanUp(t, instances, prefix, failed);
  }
});
