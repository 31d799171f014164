import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Pool } from 'mysql2/promise';
import { Scheduler } from '../../internal/watcher/scheduler/scheduler.js';
import { createRedisCoordinator } from '../../internal/watcher/lock/index.js';
import type { WatcherConfig } from '../../internal/watcher/config.js';
import { watcherConfig } from '../helpers/watcher-config.js';
import type { AnyWatcher, RunContext } from '../../internal/watcher/watcher/registry.js';
import { CLOSED_PORT, randomPrefix, testRedis } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fakeDb = {} as Pool;

interface LogLine {
  event?: string;
  [k: string]: unknown;
}

const config = watcherConfig;

function watcher(name: string, run: (ctx: RunContext<object>) => Promise<void>): AnyWatcher {
  return {
    name,
    description: 'test',
    schedule: '@every 1s',
    options: {},
    run: async (ctx: RunContext<object>) => {
      await run(ctx);
      return { done: 1 };
    },
  } as AnyWatcher;
}

void describe('Scheduler with Redis (real Redis)', () => {
  const suite = redisSuite();
  const { prefixes, clients } = suite;

  const instance = (
    id: string,
    prefix: string,
    entries: Array<{ watcher: AnyWatcher; config: WatcherConfig }>,
    opts: { leaseMs?: number; port?: number } = {},
  ): { scheduler: Scheduler; lines: LogLine[] } => {
    const redis = testRedis(opts.port);
    clients.push(redis);
    const lines: LogLine[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
    );
    const coordinator = createRedisCoordinator({
      redis,
      keyPrefix: prefix,
      leaseMs: opts.leaseMs ?? 5_000,
      instanceId: id,
      logger,
    });
    return { scheduler: new Scheduler({ entries, coordinator, db: fakeDb, logger, instanceId: id }), lines };
  };

  void test('3 schedulers, @every 1s, 10 s: every slot runs exactly once', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const runs: Array<{ slot: number; instance: string }> = [];
    const instances = ['a', 'b', 'c'].map((id) =>
      instance(id, prefix, [
        {
          watcher: watcher('tick', (ctx) => {
            runs.push({ slot: ctx.slot.getTime(), instance: ctx.instanceId });
            return sleep(100);
          }),
          config: config('tick'),
        },
      ]),
    );
    const t0 = Date.now();
    for (const i of instances) i.scheduler.start();
    await sleep(10_000);
    const t1 = Date.now();
    for (const i of instances) assert.deepEqual(await i.scheduler.stop(2_000), { abandoned: 0 });

    const expected: number[] = [];
    for (let s = Math.floor(t0 / 1000) * 1000 + 1000; s <= t1 - 200; s += 1000) expected.push(s);
    const slots = runs.map((r) => r.slot).sort((x, y) => x - y);
    for (const s of expected)
      assert.equal(slots.filter((x) => x === s).length, 1, `slot ${new Date(s).toISOString()} once`);
    assert.equal(new Set(slots).size, slots.length, 'no slot twice');
    const claimedSkips = instances
      .flatMap((i) => i.lines)
      .filter((l) => l.event === 'run.skipped' && l.reason === 'claimed');
    assert.ok(claimedSkips.length >= 2 * expected.length, 'the other two instances saw each slot claimed');
    assert.ok(
      claimedSkips.every((l) => l.level === 20),
      'claimed elsewhere is logged at debug',
    );
  });

  void test('a run longer than the lease keeps it (extended) and finishes ok; the next slots are overlap-skipped', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const aborted: boolean[] = [];
    const slow = watcher('slow', async (ctx) => {
      await sleep(2_600);
      aborted.push(ctx.signal.aborted);
    });
    const a = instance('a', prefix, [{ watcher: slow, config: config('slow') }], { leaseMs: 800 });
    const b = instance('b', prefix, [{ watcher: slow, config: config('slow') }], { leaseMs: 800 });
    a.scheduler.start();
    b.scheduler.start();
    await sleep(3_900);
    await a.scheduler.stop(3_000);
    await b.scheduler.stop(3_000);
    const lines = [...a.lines, ...b.lines];
    const finished = lines.filter((l) => l.event === 'run.finished');
    assert.ok(finished.length >= 1);
    assert.equal(finished[0]?.result, 'ok');
    assert.equal(aborted[0], false, 'the signal did not fire while the lease was extended');
    assert.equal(lines.filter((l) => l.event === 'lease.lost').length, 0);
    const overlap = lines.filter((l) => l.event === 'run.skipped' && l.reason === 'overlap');
    assert.ok(overlap.length >= 1, 'slots during the long run were skipped cluster-wide');
  });

  void test('Redis unreachable: slots skipped as backend-unavailable and counted, outage logged once, nothing runs', async () => {
    const prefix = randomPrefix();
    let ran = 0;
    const skipped: string[] = [];
    const redis = testRedis(CLOSED_PORT);
    clients.push(redis);
    const lines: LogLine[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
    );
    const scheduler = new Scheduler({
      entries: [{ watcher: watcher('w', () => Promise.resolve(void ran++)), config: config('w') }],
      coordinator: createRedisCoordinator({
        redis,
        keyPrefix: prefix,
        leaseMs: 1000,
        instanceId: 'x',
        logger,
      }),
      db: fakeDb,
      logger,
      instanceId: 'x',
      hooks: { onSkipped: (reason) => void skipped.push(reason) },
    });
    scheduler.start();
    await sleep(4_200);
    await scheduler.stop(1_000);
    assert.equal(ran, 0, 'never runs without a claim');
    assert.ok(skipped.length >= 3, `skips counted (${skipped.length})`);
    assert.ok(skipped.every((r) => r === 'backend-unavailable'));
    assert.equal(scheduler.stats().get('w')?.skipped['backend-unavailable'], skipped.length);
    assert.equal(lines.filter((l) => l.event === 'backend.unavailable').length, 1, 'outage logged once');
  });
});
