/**
 * Majority claims and leases over three independent Redis servers (`lock.redis-addrs`), each a
 * `redis-server` started here on a free port and killed afterwards. Three schedulers in this process,
 * each with its own clients, run a per-second watcher: with one server stopped every slot still runs
 * exactly once; with two stopped no slot runs and every skip is counted as backend-unavailable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Pool } from 'mysql2/promise';
import { Scheduler } from '../../internal/watcher/scheduler/scheduler.js';
import { createRedisCoordinator } from '../../internal/watcher/lock/index.js';
import type { Coordinator, Lease } from '../../internal/watcher/lock/index.js';
import type { WatcherConfig } from '../../internal/watcher/config.js';
import { watcherConfig } from '../helpers/watcher-config.js';
import type { AnyWatcher, RunContext } from '../../internal/watcher/watcher/registry.js';
import { closeAll, deletePrefix, randomPrefix, testRedis } from '../helpers/redis.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-servers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lock-server client as the daemon makes it: fail fast, no offline queue. */
function lockClient(port: number): Redis {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 500,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 50, 500),
  });
  c.on('error', () => undefined);
  return c;
}

const config: WatcherConfig = watcherConfig('tick');

void describe('quorum over three independent Redis servers', () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  let main: Redis;
  const prefix = randomPrefix();
  const rejections: unknown[] = [];
  const onRejection = (r: unknown): void => void rejections.push(r);

  before(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startRedisServer());
    main = testRedis();
    clients.push(main);
    process.on('unhandledRejection', onRejection);
  });
  after(async () => {
    await deletePrefix(main, prefix);
    closeAll(...clients);
    await Promise.all(servers.map((s) => s.stop()));
    process.off('unhandledRejection', onRejection);
    assert.deepEqual(rejections, [], 'no unhandled rejection');
  });

  const coordinator = async (id: string, leaseMs = 2_000): Promise<Coordinator> => {
    const lockRedis = servers.map((s) => lockClient(s.port));
    clients.push(...lockRedis);
    // Connected (or failed) before the first command: there is no offline queue.
    await Promise.all(
      lockRedis.map((c) =>
        c.status === 'ready'
          ? Promise.resolve()
          : Promise.race([new Promise((r) => c.once('ready', r)), sleep(1_000)]),
      ),
    );
    return createRedisCoordinator({ redis: main, lockRedis, keyPrefix: prefix, leaseMs, instanceId: id });
  };

  /** Runs three schedulers for `ms`; returns the slots each run served and the schedulers' stats. */
  const runCluster = async (
    name: string,
    ms: number,
  ): Promise<{ runs: number[]; expected: number[]; unavailable: number; claimed: number }> => {
    const runs: number[] = [];
    const watcher = {
      name,
      description: 'test',
      schedule: '@every 1s',
      options: {},
      run: async (ctx: RunContext<object>) => {
        runs.push(ctx.slot.getTime());
        await sleep(50);
        return {};
      },
    } as AnyWatcher;
    const logger = pino({ level: 'silent' });
    const schedulers: Scheduler[] = [];
    for (const id of ['a', 'b', 'c']) {
      schedulers.push(
        new Scheduler({
          entries: [{ watcher, config: { ...config, name } }],
          coordinator: await coordinator(id),
          db: {} as Pool,
          logger,
          instanceId: id,
        }),
      );
    }
    const t0 = Date.now();
    for (const s of schedulers) s.start();
    await sleep(ms);
    const t1 = Date.now();
    for (const s of schedulers) await s.stop(2_000);
    const expected: number[] = [];
    for (let s = Math.floor(t0 / 1000) * 1000 + 1000; s <= t1 - 300; s += 1000) expected.push(s);
    let unavailable = 0;
    let claimed = 0;
    for (const s of schedulers) {
      const st = s.stats().get(name);
      unavailable += st?.skipped['backend-unavailable'] ?? 0;
      claimed += st?.skipped.claimed ?? 0;
    }
    return { runs, expected, unavailable, claimed };
  };

  const assertOnce = (runs: number[], expected: number[]): void => {
    assert.equal(new Set(runs).size, runs.length, `no slot ran twice: ${runs.join(',')}`);
    for (const s of expected)
      assert.equal(runs.filter((x) => x === s).length, 1, `slot ${new Date(s).toISOString()} ran once`);
  };

  void test('all three up: every slot runs exactly once', async () => {
    const r = await runCluster('all-up', 4_500);
    assertOnce(r.runs, r.expected);
    assert.equal(r.unavailable, 0);
  });

  void test('a lease needs a majority: a second holder is refused; it is extended on the majority', async () => {
    const a = await coordinator('a', 600);
    const b = await coordinator('b', 600);
    const ra = await a.acquireLease('lease', { kind: 'running' });
    assert.equal(ra.outcome, 'acquired');
    assert.equal((await b.acquireLease('lease', { kind: 'running' })).outcome, 'held');
    await sleep(1_500); // well past the lease: extended by the shared timer
    const lease = (ra as { lease: Lease }).lease;
    assert.equal(lease.lost, false);
    assert.equal((await b.acquireLease('lease', { kind: 'running' })).outcome, 'held');
    await lease.release();
    assert.equal((await b.acquireLease('lease', { kind: 'running' })).outcome, 'acquired');
    await b.close();
  });

  void test('one server stopped: slots still run exactly once', async () => {
    await servers[0]!.stop();
    const r = await runCluster('one-down', 4_500);
    assertOnce(r.runs, r.expected);
    assert.equal(r.unavailable, 0, 'a majority answers: nothing is skipped for the backend');
  });

  void test('two servers stopped: no slot runs, every skip counted as backend-unavailable', async () => {
    await servers[1]!.stop();
    const r = await runCluster('two-down', 3_500);
    assert.deepEqual(r.runs, [], 'nothing runs without a majority');
    assert.ok(
      r.unavailable >= 3 * (r.expected.length - 1),
      `each instance counted its skipped slots (${r.unavailable} for ${r.expected.length} slots)`,
    );
    assert.equal(r.claimed, 0);
  });
});
