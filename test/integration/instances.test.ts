/**
 * The replica list on the real Redis: each daemon's heartbeat refreshes one member of
 * `<prefix>instances`, the list shows the recently seen ones newest first, old members are trimmed
 * and the set capped by every beat, the key expires, and a clean stop takes the member off.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  INSTANCES_RETAIN_MS,
  InstanceHeartbeat,
  MAX_INSTANCES,
  instancesKey,
  readInstances,
  type InstanceInfo,
} from '../../internal/watcher/status-page/instances.js';
import { randomPrefix, testRedis } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

const silent = pino({ level: 'silent' });
const info = (instance: string, startedMs = 1_000): InstanceInfo => ({
  instance,
  host: `host-${instance}`,
  pid: 42,
  version: '9.9.9',
  startedMs,
});

void describe('replica heartbeat (real Redis)', () => {
  const suite = redisSuite();
  const setup = () => {
    const prefix = randomPrefix();
    suite.prefixes.push(prefix);
    const redis = testRedis();
    suite.clients.push(redis);
    // A heartbeat of `instance` on this prefix whose clock is `now()`.
    const beater = (instance: string, now: () => number) =>
      new InstanceHeartbeat({ redis, keyPrefix: prefix, self: info(instance), logger: silent, now });
    return { prefix, redis, beater };
  };

  void test('beats refresh one member per daemon; the list is newest first with what each announced', async () => {
    const { prefix, redis, beater } = setup();
    let now = Date.now();
    const a = beater('a', () => now);
    const b = beater('b', () => now);
    await a.beat();
    now += 1_000;
    await b.beat();
    now += 1_000;
    await a.beat();
    assert.equal(await redis.zcard(instancesKey(prefix)), 2);
    const seen = await readInstances(redis, prefix, now);
    assert.deepEqual(seen, [
      { ...info('a'), lastSeenMs: now },
      { ...info('b'), lastSeenMs: now - 1_000 },
    ]);
    const ttl = await redis.pttl(instancesKey(prefix));
    assert.ok(ttl > 0 && ttl <= INSTANCES_RETAIN_MS, `ttl ${ttl}`);
  });

  void test('members older than the retention are not listed and are trimmed by the next beat', async () => {
    const { prefix, redis, beater } = setup();
    const now = Date.now();
    const key = instancesKey(prefix);
    await redis.zadd(key, now - INSTANCES_RETAIN_MS - 1_000, JSON.stringify(info('old')));
    await redis.zadd(key, now - 60_000, JSON.stringify(info('quiet')));
    await redis.zadd(key, now, 'not json');
    assert.deepEqual(
      (await readInstances(redis, prefix, now)).map((s) => s.instance),
      ['quiet'],
    );
    await beater('c', () => now).beat();
    const members = await redis.zrange(key, 0, -1);
    assert.ok(!members.some((m) => m.includes('"old"')), members.join(' '));
    assert.equal(members.length, 3);
  });

  void test('the set never holds more than MAX_INSTANCES members; the most recently seen stay', async () => {
    const { prefix, redis, beater } = setup();
    const now = Date.now();
    const key = instancesKey(prefix);
    const args: Array<string | number> = [];
    for (let i = 0; i < MAX_INSTANCES + 10; i++) args.push(now - 100_000 + i, JSON.stringify(info(`r${i}`)));
    await redis.zadd(key, ...args);
    await beater('me', () => now).beat();
    assert.equal(await redis.zcard(key), MAX_INSTANCES);
    const seen = await readInstances(redis, prefix, now);
    assert.equal(seen[0]?.instance, 'me');
    assert.ok(!seen.some((s) => s.instance === 'r0' || s.instance === 'r10'));
  });

  void test('a clean stop leaves the list and beats no more; a restart under the same id is a new member', async () => {
    const { prefix, redis } = setup();
    const hb = new InstanceHeartbeat({
      redis,
      keyPrefix: prefix,
      self: info('s', 1),
      logger: silent,
      intervalMs: 20,
    });
    const other = new InstanceHeartbeat({ redis, keyPrefix: prefix, self: info('s', 2), logger: silent });
    hb.start();
    await other.beat();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await readInstances(redis, prefix, Date.now())).length, 2);
    await hb.stop();
    await hb.beat();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(
      (await readInstances(redis, prefix, Date.now())).map((s) => s.startedMs),
      [2],
    );
  });

  void test('a beat while Redis is down fails quietly and logs once until it works again', async () => {
    const down = testRedis(6390, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
    suite.clients.push(down);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const hb = new InstanceHeartbeat({ redis: down, keyPrefix: randomPrefix(), self: info('x'), logger });
    await hb.beat();
    await hb.beat();
    assert.equal(lines.filter((l) => l.includes('instances.heartbeat-failed')).length, 1);
    await hb.stop();
  });
});
