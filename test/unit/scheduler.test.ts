import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Pool } from 'mysql2/promise';
import { ManualClock } from '../helpers/manual-clock.js';
import { Scheduler } from '../../internal/watcher/scheduler/scheduler.js';
import type { SchedulerHooks } from '../../internal/watcher/scheduler/scheduler.js';
import { LocalCoordinator, createLocalCoordinator } from '../../internal/watcher/lock/index.js';
import type {
  ClaimLeaseResult,
  ClaimRequest,
  Coordinator,
  FinishedRun,
} from '../../internal/watcher/lock/index.js';
import type { WatcherConfig } from '../../internal/watcher/config.js';
import { watcherConfig } from '../helpers/watcher-config.js';
import type { RunContext } from '../../internal/watcher/watcher/registry.js';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0); // a whole second, a whole day
const fakeDb = {} as Pool;

interface LogLine {
  event?: string;
  [k: string]: unknown;
}

function capture(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
  return { logger, lines };
}

const config = watcherConfig;

/** Waits `ms` on the manual clock, or until aborted (then throws the abort reason). */
function clockSleep(clock: ManualClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clock.clearTimeout(h);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Harness {
  clock: ManualClock;
  scheduler: Scheduler;
  lines: LogLine[];
  starts: Array<{ name: string; slot: number; at: number }>;
  coordinator: Coordinator;
}

function harness(
  entries: Array<{
    config: WatcherConfig;
    durationMs?: number;
    fail?: boolean;
    /** The first N runs fail. */
    failFirst?: number;
    ignoreAbort?: boolean;
  }>,
  opts: { hooks?: SchedulerHooks; start?: number; coordinator?: Coordinator; clock?: ManualClock } = {},
): Harness {
  const clock = opts.clock ?? new ManualClock(opts.start ?? T0 + 500);
  const { logger, lines } = capture();
  const starts: Harness['starts'] = [];
  const coordinator =
    opts.coordinator ?? createLocalCoordinator({ instanceId: 'i1', clock, leaseMs: 30_000 });
  const scheduler = new Scheduler({
    entries: entries.map((e) => ({
      config: e.config,
      watcher: {
        name: e.config.name,
        description: 'test',
        schedule: e.config.schedule,
        options: {},
        async run(ctx: RunContext<object>) {
          starts.push({ name: ctx.watcher, slot: ctx.slot.getTime(), at: clock.now() });
          if (e.durationMs) await clockSleep(clock, e.durationMs, e.ignoreAbort ? undefined : ctx.signal);
          if (e.fail || (e.failFirst ?? 0) > starts.filter((x) => x.name === ctx.watcher).length - 1)
            throw new Error('boom');
          return { items: 1 };
        },
      },
    })),
    coordinator,
    db: fakeDb,
    logger,
    instanceId: 'i1',
    clock,
    pollMs: 100,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
  });
  return { clock, scheduler, lines, starts, coordinator };
}

const events = (lines: LogLine[], event: string): LogLine[] => lines.filter((l) => l.event === event);

void describe('Scheduler (manual clock, local coordinator)', () => {
  void test('fixed-rate @every 1s runs every grid slot once, on time, and logs run.finished', async () => {
    const h = harness([{ config: config('a') }]);
    h.scheduler.start();
    assert.equal(h.scheduler.scheduled()[0]?.nextSlot?.getTime(), T0 + 1000);
    await h.clock.advance(5_000);
    assert.deepEqual(
      h.starts.map((s) => s.slot - T0),
      [1000, 2000, 3000, 4000, 5000],
    );
    assert.ok(
      h.starts.every((s) => s.at === s.slot),
      'each run starts at its slot',
    );
    const fin = events(h.lines, 'run.finished');
    assert.equal(fin.length, 5);
    assert.deepEqual(
      { ...fin[0], time: undefined, pid: undefined, hostname: undefined, level: undefined, msg: undefined },
      {
        event: 'run.finished',
        watcher: 'a',
        slot: new Date(T0 + 1000).toISOString(),
        instance: 'i1',
        durationMs: 0,
        result: 'ok',
        items: 1,
        time: undefined,
        pid: undefined,
        hostname: undefined,
        level: undefined,
        msg: undefined,
      },
    );
    assert.equal(events(h.lines, 'run.started').length, 5);
    assert.deepEqual(
      h.scheduler.nextSlots('a', 3).map((d) => d.getTime() - T0),
      [6000, 7000, 8000],
    );
    assert.deepEqual(await h.scheduler.stop(1000), { abandoned: 0 });
  });

  void test('watchers due together are claimed in one batch and finished in one batch', async () => {
    const clock = new ManualClock(T0 + 500);
    const claimBatches: number[] = [];
    const finishBatches: number[] = [];
    /** The local coordinator, counting the batches it is asked. */
    class Counting extends LocalCoordinator {
      override claimAndLease(requests: readonly ClaimRequest[]): Promise<ClaimLeaseResult[]> {
        claimBatches.push(requests.length);
        return super.claimAndLease(requests);
      }
      override finishRuns(runs: readonly FinishedRun[]): Promise<void> {
        finishBatches.push(runs.length);
        return super.finishRuns(runs);
      }
    }
    const local = new Counting({ instanceId: 'i1', clock, leaseMs: 30_000 });
    const coordinator: Coordinator = local;
    const names = Array.from({ length: 50 }, (_, i) => `w${i}`);
    const h = harness(
      names.map((n) => ({ config: config(n) })),
      { clock, coordinator },
    );
    h.scheduler.start();
    await h.clock.advance(2_000);
    assert.deepEqual(claimBatches, [50, 50], 'one claim batch per slot');
    assert.deepEqual(finishBatches, [50, 50], 'the runs of a slot finish in one batch');
    assert.equal(h.starts.length, 100);
    assert.ok(
      h.starts.every((s) => s.at === s.slot),
      'every run starts at its slot',
    );
    const records = await Promise.all(names.map((n) => local.lastRun(n)));
    assert.ok(
      records.every((r) => r?.slotMs === T0 + 2000 && r.result === 'ok'),
      'every last-run record stored',
    );
    assert.equal(await local.isRunning('w0'), false, 'leases released');
    assert.deepEqual(await h.scheduler.stop(1000), { abandoned: 0 });
  });

  void test('a slot claimed ahead of time by an instance that stops before it runs elsewhere', async () => {
    const clock = new ManualClock(T0 + 500);
    const coordinator = createLocalCoordinator({ instanceId: 'i1', clock, leaseMs: 30_000 });
    const first = harness([{ config: config('a') }], { clock, coordinator });
    const second = harness([{ config: config('a') }], { clock, coordinator });
    first.scheduler.start();
    second.scheduler.start();
    // The claims of slot T0+1000 go out 200 ms ahead; the first scheduler wins it.
    await clock.advance(350);
    assert.equal(await coordinator.isClaimed('a', T0 + 1000), true);
    // It stops before the slot time: the slot is given back and the other instance takes it
    // when it looks again just after the slot time.
    assert.deepEqual(await first.scheduler.stop(1000), { abandoned: 0 });
    await clock.advance(650);
    assert.deepEqual(first.starts, []);
    assert.deepEqual(
      second.starts.map((s) => [s.slot - T0, s.at - T0]),
      [[1000, 1050]],
    );
    await clock.advance(1000);
    assert.deepEqual(
      second.starts.map((s) => s.slot - T0),
      [1000, 2000],
    );
    assert.deepEqual(await second.scheduler.stop(1000), { abandoned: 0 });
  });

  void test('a failing watcher is logged with its name and counted; the other goes on', async () => {
    const h = harness([{ config: config('bad'), fail: true }, { config: config('good') }]);
    h.scheduler.start();
    await h.clock.advance(3_000);
    const failed = events(h.lines, 'run.finished').filter((l) => l.result === 'failed');
    assert.equal(failed.length, 3);
    assert.ok(failed.every((l) => l.watcher === 'bad' && /bad.*boom/.test(String(l.msg))));
    assert.equal(h.starts.filter((s) => s.name === 'good').length, 3);
    assert.equal(h.scheduler.stats().get('bad')?.failed, 3);
    await h.scheduler.stop(1000);
  });

  void test('overlap skip: slots that come while the run runs are skipped and counted', async () => {
    const skipped: string[] = [];
    const h = harness([{ config: config('s'), durationMs: 2_500 }], {
      hooks: { onSkipped: (reason) => void skipped.push(reason) },
    });
    h.scheduler.start();
    // Each skip is decided after a 250 ms re-try of the running lease, so look until 6.3 s.
    await h.clock.advance(6_300);
    // Runs at 1s (to 3.5s), 4s (to 6.5s); 2s, 3s, 5s, 6s skipped.
    assert.deepEqual(
      h.starts.map((s) => s.slot - T0),
      [1000, 4000],
    );
    assert.deepEqual(skipped, ['overlap', 'overlap', 'overlap', 'overlap']);
    assert.equal(events(h.lines, 'run.skipped').filter((l) => l.reason === 'overlap').length, 4);
    await h.scheduler.stop(1000);
  });

  void test('overlap skip: a run that ends just after the next slot does not cost that slot', async () => {
    const skipped: string[] = [];
    const h = harness([{ config: config('s2'), durationMs: 1_100 }], {
      hooks: { onSkipped: (reason) => void skipped.push(reason) },
    });
    h.scheduler.start();
    await h.clock.advance(2_300);
    // 1s runs to 2.1s; slot 2s re-tries the lease until 2.25s and gets it when the run ends.
    assert.deepEqual(
      h.starts.map((s) => s.slot - T0),
      [1000, 2000],
    );
    const second = h.starts[1]!;
    assert.ok(second.at >= T0 + 2100 && second.at <= T0 + 2150, `started at +${second.at - T0} ms`);
    assert.deepEqual(skipped, []);
    await h.scheduler.stop(5000);
  });

  void test('overlap allow: runs overlap', async () => {
    const h = harness([{ config: config('al', { overlap: 'allow' }), durationMs: 2_500 }]);
    h.scheduler.start();
    await h.clock.advance(4_000);
    assert.deepEqual(
      h.starts.map((s) => s.slot - T0),
      [1000, 2000, 3000, 4000],
    );
    await h.scheduler.stop(1000);
  });

  void test('overlap delay: one slot waits and runs when the previous run ends; others are skipped', async () => {
    const h = harness([{ config: config('d', { overlap: 'delay' }), durationMs: 2_500 }]);
    h.scheduler.start();
    await h.clock.advance(4_000);
    // 1s runs to 3.5s; 2s waits; 3s is skipped (one waiter at most); 2s starts at ~3.5s; then 4s
    // becomes the one waiter.
    assert.deepEqual(
      h.starts.map((s) => s.slot - T0),
      [1000, 2000],
    );
    const delayed = h.starts[1]!;
    assert.ok(
      delayed.at >= T0 + 3500 && delayed.at <= T0 + 3600,
      `delayed run starts when the first ends (${delayed.at - T0})`,
    );
    assert.equal(h.scheduler.stats().get('d')?.skipped.overlap, 1);
    assert.equal(events(h.lines, 'run.delayed').length, 2);
    await h.scheduler.stop(1000);
  });

  void test('fixed-delay: each run starts one interval after the previous one ended', async () => {
    const h = harness([
      { config: config('fd', { schedule: '@every 2s', mode: 'fixed-delay' }), durationMs: 1_000 },
    ]);
    h.scheduler.start();
    await h.clock.advance(12_000);
    // First slot on the grid (2s), then end + 2s: 2 -> ends 3, 5 -> 6, 8 -> 9, 11 -> 12.
    assert.deepEqual(
      h.starts.map((s) => s.at - T0),
      [2000, 5000, 8000, 11000],
    );
    assert.equal(await h.coordinator.chainEnd('fd'), T0 + 12_000);
    await h.scheduler.stop(1000);
  });

  void test('fixed-delay: an instance started during the first run of another follows its chain', async () => {
    const clock = new ManualClock(T0 + 500);
    const coordinator = createLocalCoordinator({ instanceId: 'i1', clock, leaseMs: 30_000 });
    const fd = config('fd', { schedule: '@every 2s', mode: 'fixed-delay' });
    const first = harness([{ config: fd, durationMs: 1_000 }], { clock, coordinator });
    const second = harness([{ config: fd, durationMs: 1_000 }], { clock, coordinator });
    first.scheduler.start();
    await clock.advance(1_700); // the first runs grid slot 2 s, until 3 s
    second.scheduler.start(); // no chain yet: it arms grid slot 4 s
    await clock.advance(6_000);
    // Not 4 s (a second chain on the grid): the chain's 5 s, then 8 s, whoever runs them.
    assert.deepEqual(
      [...first.starts, ...second.starts].map((s) => s.at - T0).sort((a, b) => a - b),
      [2000, 5000, 8000],
    );
    await Promise.all([first.scheduler.stop(1000), second.scheduler.stop(1000)]);
  });

  void test('fixed-delay resumes from the chain another instance left', async () => {
    const clock = new ManualClock(T0 + 500);
    const coordinator = createLocalCoordinator({ instanceId: 'i1', clock });
    await coordinator.advanceChain('fd', undefined, T0 + 1_200);
    const h = harness([{ config: config('fd', { schedule: '@every 2s', mode: 'fixed-delay' }) }], {
      coordinator,
    });
    h.clock.jump(0);
    // The harness has its own clock at the same time; its slots follow the stored end.
    h.scheduler.start();
    await h.clock.advance(3_000);
    assert.equal(h.starts[0]?.slot, T0 + 3_200);
    await h.scheduler.stop(1000);
  });

  void test('a blocked event loop (clock jumps ahead of timers): missed slots counted, latest runs', async () => {
    const missed: number[] = [];
    const h = harness([{ config: config('m') }], { hooks: { onMissed: (i) => void missed.push(i.count) } });
    h.scheduler.start();
    await h.clock.advance(1_000); // slot 1s runs
    h.clock.jump(4_200); // now 5.7s: slots 2s..5s passed while "blocked"
    await h.clock.advance(1);
    assert.deepEqual(missed, [3]);
    assert.deepEqual(
      h.starts.map((s) => s.slot - T0),
      [1000, 5000],
    );
    assert.equal(events(h.lines, 'slot.missed')[0]?.count, 3);
    await h.clock.advance(1_000);
    assert.equal(h.starts.at(-1)?.slot, T0 + 6_000);
    await h.scheduler.stop(1000);
  });

  void test('catch-up: at start, the latest slot inside the window runs once if nobody ran it', async () => {
    const start = T0 + 3_600_000 + 10 * 60_000; // 01:10; the hourly slot 01:00 is 10 min ago
    const h = harness([{ config: config('c', { schedule: '@hourly', catchUpMs: 15 * 60_000 }) }], { start });
    await h.coordinator.recordRun({
      watcher: 'c',
      slotMs: T0,
      instance: 'old',
      result: 'ok',
      startedMs: T0,
      durationMs: 1,
      counts: {},
    });
    h.scheduler.start();
    await h.clock.advance(1);
    assert.deepEqual(
      h.starts.map((s) => s.slot),
      [T0 + 3_600_000],
    );
    await h.scheduler.stop(1000);
    // A second instance starting now finds the slot claimed and does not run it again.
    const h2 = harness([{ config: config('c', { schedule: '@hourly', catchUpMs: 15 * 60_000 }) }], {
      start,
      coordinator: h.coordinator,
    });
    h2.scheduler.start();
    await h2.clock.advance(1);
    assert.equal(h2.starts.length, 0);
    await h2.scheduler.stop(1000);
  });

  void test('without catch-up, slots nobody ran while all were down are counted as missed', async () => {
    const start = T0 + 5 * 3_600_000 + 60_000; // 05:01; last run was 00:00; 01..05 missed
    const missed: Array<{ count: number; cause: string }> = [];
    const h = harness([{ config: config('c', { schedule: '@hourly' }) }], {
      start,
      hooks: { onMissed: (i) => void missed.push({ count: i.count, cause: i.cause }) },
    });
    await h.coordinator.recordRun({
      watcher: 'c',
      slotMs: T0,
      instance: 'old',
      result: 'ok',
      startedMs: T0,
      durationMs: 1,
      counts: {},
    });
    h.scheduler.start();
    await h.clock.advance(1);
    assert.deepEqual(missed, [{ count: 5, cause: 'down' }]);
    assert.equal(h.starts.length, 0);
    await h.scheduler.stop(1000);
  });

  void test('@every 30d (> 2^31-1 ms away) fires exactly at its slot, not early', async () => {
    const interval = 30 * 86_400_000;
    const start = Math.ceil(T0 / interval) * interval + 1; // just after a grid slot: next is 30 days away
    const h = harness([{ config: config('long', { schedule: '@every 30d' }) }], { start });
    h.scheduler.start();
    await h.clock.advance(interval - 2);
    assert.equal(h.starts.length, 0, 'nothing fires before the slot');
    await h.clock.advance(1);
    assert.deepEqual(
      h.starts.map((s) => s.slot),
      [start - 1 + interval],
    );
    await h.scheduler.stop(1000);
  });

  void test('stop aborts runs, waits for them, and reports abandoned ones', async () => {
    const h = harness([
      { config: config('polite'), durationMs: 60_000 },
      { config: config('stubborn', { schedule: '@every 2s' }), durationMs: 60_000, ignoreAbort: true },
    ]);
    h.scheduler.start();
    await h.clock.advance(2_000);
    const stopping = h.scheduler.stop(200);
    assert.equal(h.scheduler.stop(200), stopping, 'a second stop shares the promise');
    assert.deepEqual(await stopping, { abandoned: 1 });
    const fin = events(h.lines, 'run.finished');
    assert.deepEqual(
      fin.map((l) => [l.watcher, l.result]),
      [['polite', 'aborted']],
    );
    assert.equal(await h.coordinator.isRunning('stubborn'), false, 'the abandoned run lease is released');
    assert.equal(h.clock.pending > 0, true); // the stubborn run's own timer; the scheduler's are gone
    const before = h.starts.length;
    await h.clock.advance(5_000);
    assert.equal(h.starts.length, before, 'nothing is scheduled after stop');
  });

  void test('runNow runs once under the running lease; a second concurrent runNow is skipped', async () => {
    const h = harness([{ config: config('r', { dryRun: false }), durationMs: 1_000 }]);
    const first = h.scheduler.runNow('r', { dryRun: true });
    await h.clock.advance(10);
    const second = await h.scheduler.runNow('r', {});
    assert.equal(second.result, 'skipped');
    await h.clock.advance(1_000);
    const r = await first;
    assert.equal(r.result, 'ok');
    assert.deepEqual(r.counts, { items: 1 });
    assert.equal(r.durationMs, 1_000);
    assert.equal(events(h.lines, 'run.finished')[0]?.manual, true);
    await h.scheduler.stop(100);
  });

  void test("a failed run's error is censored before it is logged, returned and stored", async () => {
    const clock = new ManualClock(T0 + 500);
    const { logger, lines } = capture();
    const coordinator = createLocalCoordinator({ instanceId: 'i1', clock, leaseMs: 30_000 });
    const scheduler = new Scheduler({
      entries: [
        {
          config: config('leaky'),
          watcher: {
            name: 'leaky',
            description: 'test',
            schedule: '@every 1s',
            options: {},
            run: () => Promise.reject(new Error('upstream refused token tok-s3cr3t')),
          },
        },
      ],
      coordinator,
      db: fakeDb,
      logger,
      instanceId: 'i1',
      clock,
      censor: (text) => text.split('tok-s3cr3t').join('***'),
    });
    const r = await scheduler.runNow('leaky', {});
    assert.equal(r.result, 'failed');
    assert.equal(r.error, 'upstream refused token ***');
    assert.equal((await coordinator.lastRun('leaky'))?.error, 'upstream refused token ***');
    // The error object logged with run.failed is the daemon logger's to censor (options-secrets test).
    assert.equal(
      events(lines, 'run.finished')[0]?.msg,
      'run of watcher "leaky" failed: upstream refused token ***',
    );
    await scheduler.stop(100);
  });

  void test('reconfigure changes a schedule without interrupting the run in flight', async () => {
    const h = harness([{ config: config('x', { schedule: '@every 1s' }), durationMs: 1_500 }]);
    h.scheduler.start();
    await h.clock.advance(1_200); // run of slot 1s in flight
    const w = {
      name: 'x',
      description: '',
      schedule: '@every 5s',
      options: {},
      run: () => Promise.resolve(),
    };
    h.scheduler.reconfigure([{ watcher: w, config: config('x', { schedule: '@every 5s' }) }]);
    await h.clock.advance(5_000);
    const fin = events(h.lines, 'run.finished');
    assert.equal(fin[0]?.result, 'ok', 'the run in flight finished normally');
    assert.equal(h.scheduler.scheduled()[0]?.nextSlot?.getTime(), T0 + 10_000);
    assert.deepEqual(
      fin.map((l) => l.slot),
      [new Date(T0 + 1000).toISOString(), new Date(T0 + 5000).toISOString()],
    );
    await h.scheduler.stop(100);
  });

  void describe('operator controls', () => {
    void test('timeout: a 10 s run is aborted at 2 s and recorded as timeout', async () => {
      const h = harness(
        [{ config: config('a', { schedule: '@every 10s', timeoutMs: 2000 }), durationMs: 10_000 }],
        {
          start: T0 + 9_500,
        },
      );
      h.scheduler.start();
      await h.clock.advance(3_000);
      const fin = events(h.lines, 'run.finished');
      assert.equal(fin.length, 1);
      assert.equal(fin[0]?.result, 'timeout');
      assert.equal(fin[0]?.durationMs, 2000);
      assert.equal((await h.coordinator.lastRun('a'))?.result, 'timeout');
      assert.equal(h.scheduler.stats().get('a')?.timeout, 1);
      await h.scheduler.stop(100);
    });

    /** A watcher on `@every 10s` whose first `failFirst` runs fail, started just before a slot. */
    const retrying = (retryAttempts: number, retryBackoffMs: number, failFirst: number): Harness =>
      harness(
        [{ config: config('a', { schedule: '@every 10s', retryAttempts, retryBackoffMs }), failFirst }],
        {
          start: T0 + 9_500,
        },
      );

    void test('retry: a slot that fails once runs again after the backoff, ok on attempt 2', async () => {
      const h = retrying(2, 500, 1);
      h.scheduler.start();
      await h.clock.advance(2_000);
      assert.deepEqual(
        events(h.lines, 'run.finished').map((l) => [l.slot, l.attempt, l.result]),
        [
          [new Date(T0 + 10_000).toISOString(), 1, 'failed'],
          [new Date(T0 + 10_000).toISOString(), 2, 'ok'],
        ],
      );
      assert.deepEqual(
        h.starts.map((s) => s.at - T0),
        [10_000, 10_500],
      );
      assert.equal(events(h.lines, 'run.retrying').length, 1);
      assert.equal(await h.coordinator.isRunning('a'), false, 'the lease is released after the last attempt');
      await h.scheduler.stop(100);
    });

    void test('retry: no attempt starts at or after the next slot', async () => {
      const h = retrying(3, 6_000, 5);
      h.scheduler.start();
      await h.clock.advance(7_000);
      // Attempt 2 at +6 s; attempt 3 would start 12 s after that, past the next slot: none.
      assert.deepEqual(
        h.starts.map((s) => s.at - T0),
        [10_000, 16_000],
      );
      const refused = events(h.lines, 'run.retrying').filter((l) => l.reason !== undefined);
      assert.equal(refused[0]?.reason, 'the next slot comes first');
      await h.scheduler.stop(100);
    });

    void test('paused: slots are skipped as paused (not missed) until the pause ends; a run going on can be aborted', async () => {
      const h = harness([{ config: config('a'), durationMs: 5_000 }]);
      h.scheduler.start();
      await h.clock.advance(700); // the run of slot +1 s is going
      h.scheduler.setPaused(new Set(['a']));
      assert.equal(h.scheduler.abortRuns('a', new Error('paused with --abort')), 1);
      await h.clock.advance(3_000);
      assert.deepEqual(
        h.starts.map((s) => s.slot - T0),
        [1_000],
      );
      assert.equal(events(h.lines, 'run.finished')[0]?.result, 'aborted');
      const paused = events(h.lines, 'run.skipped').filter((l) => l.reason === 'paused');
      assert.deepEqual(
        paused.map((l) => l.slot),
        [2_000, 3_000, 4_000].map((ms) => new Date(T0 + ms).toISOString()),
      );
      assert.equal(h.scheduler.stats().get('a')?.skipped.paused, 3);
      assert.equal(h.scheduler.stats().get('a')?.missed, 0);
      h.scheduler.setPaused(new Set());
      await h.clock.advance(1_000);
      assert.deepEqual(
        h.starts.map((s) => s.slot - T0),
        [1_000, 5_000],
      );
      await h.scheduler.stop(100);
    });
  });
});
