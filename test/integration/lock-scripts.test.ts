/** Each Lua script of the Redis coordinator on its own, against the real Redis, item by item. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defineScript, ITEM_SEPARATOR, type RedisScript } from '../../internal/watcher/lock/redis/batcher.js';
import { ADVANCE_CHAIN } from '../../internal/watcher/lock/redis/scripts/advance-chain.js';
import { CLAIM } from '../../internal/watcher/lock/redis/scripts/claim.js';
import { EXTEND } from '../../internal/watcher/lock/redis/scripts/extend.js';
import { RELEASE } from '../../internal/watcher/lock/redis/scripts/release.js';
import { randomPrefix, testRedis } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

void describe('Redis coordinator scripts (real Redis)', () => {
  const suite = redisSuite();

  /**
   * A fresh prefix, and `run(script, keys, args)` on a client of its own: the items with their keys
   * declared, or packed (no declared key; keys and arguments each joined, see scripts/packed.ts).
   */
  const setup = (
    form: 'declared' | 'packed' = 'declared',
  ): {
    p: string;
    run: (s: RedisScript, keys: string[], args: string[]) => Promise<unknown>;
  } => {
    const p = randomPrefix();
    suite.prefixes.push(p);
    const client = testRedis();
    suite.clients.push(client);
    const run = (s: RedisScript, keys: string[], args: string[]): Promise<unknown> =>
      form === 'packed'
        ? defineScript(client, s)(0, keys.join(ITEM_SEPARATOR), args.join(ITEM_SEPARATOR))
        : defineScript(client, s)(keys.length, ...keys, ...args);
    return { p, run };
  };

  // The batched scripts, with their items declared and packed (as the batcher sends them to one server).
  for (const form of ['declared', 'packed'] as const) {
    void test(`CLAIM: claims and leases per item; reports a held lease and the value holding a slot (${form})`, async () => {
      const { p, run } = setup(form);
      const item = (
        w: string,
        token: string,
        retain = '60000',
        holder = '',
        slot = 's1',
      ): [string[], string[]] => [
        [`${p}slot:{${w}}:${slot}`, `${p}running:{${w}}`, `${p}holder:{${w}}`],
        [token, retain, '5000', holder],
      ];
      const [k1, a1] = item('a', 't1', '60000', '{"instance":"i"}');
      const [k2, a2] = item('b', 't2');
      assert.deepEqual(await run(CLAIM, [...k1, ...k2], [...a1, ...a2]), [1, 1]);
      const slotTtl = await suite.admin.pttl(`${p}slot:{a}:s1`);
      const leaseTtl = await suite.admin.pttl(`${p}running:{a}`);
      assert.ok(slotTtl > 50_000 && leaseTtl > 4_000 && leaseTtl <= 5_000, `${slotTtl} ${leaseTtl}`);
      assert.equal(await suite.admin.get(`${p}running:{a}`), 't1');
      assert.equal(await suite.admin.get(`${p}holder:{a}`), '{"instance":"i"}');
      assert.equal(await suite.admin.exists(`${p}holder:{b}`), 0, 'no holder record asked for b');
      // The same slot again: its value; a new slot of a watcher whose lease is held: claimed, 2.
      assert.deepEqual(await run(CLAIM, ...item('a', 't3')), ['t1']);
      assert.deepEqual(await run(CLAIM, ...item('a', 't4', '60000', '', 's2')), [2]);
      assert.equal(await suite.admin.get(`${p}slot:{a}:s2`), 't4');
      // Retention 0: the lease alone, no slot key touched.
      assert.deepEqual(await run(CLAIM, ...item('c', 't5', '0')), [1]);
      assert.equal(await suite.admin.exists(`${p}slot:{c}:s1`), 0);
      assert.deepEqual(await run(CLAIM, ...item('c', 't6', '0')), ['t5']);
    });

    void test(`RELEASE: deletes only a key holding the token, and stores the record either way (${form})`, async () => {
      const { p, run } = setup(form);
      await suite.admin.set(`${p}running:{a}`, 'mine');
      await suite.admin.set(`${p}running:{b}`, 'theirs');
      const reply = await run(
        RELEASE,
        [
          ...[`${p}running:{a}`, `${p}last-run:{a}`, `${p}last-run:{a}`, `${p}last-run:{a}`],
          ...[`${p}running:{b}`, `${p}last-run:{b}`, `${p}last-run:{b}`, `${p}history:{b}`],
          ...[`${p}x`, `${p}x`, `${p}x`, `${p}x`],
        ],
        [...['mine', '{"a":1}', ''], ...['mine', '{"b":1}', '100:60000:='], ...['', '', '']],
      );
      assert.deepEqual(reply, [1, 0, 0]);
      assert.equal(await suite.admin.exists(`${p}running:{a}`), 0);
      assert.equal(await suite.admin.get(`${p}running:{b}`), 'theirs');
      assert.equal(await suite.admin.get(`${p}last-run:{a}`), '{"a":1}');
      assert.equal(await suite.admin.get(`${p}last-run:{b}`), '{"b":1}');
      assert.equal(await suite.admin.exists(`${p}x`), 0, 'no token, no record: nothing written');
      assert.deepEqual(await suite.admin.lrange(`${p}history:{b}`, 0, -1), ['{"b":1}']);
      assert.equal(await suite.admin.exists(`${p}history:{a}`), 0, 'no history entry: no list');
    });

    void test(`RELEASE: pushes history entries newest first, trimmed to the length, with an expiry (${form})`, async () => {
      const { p, run } = setup(form);
      const h = `${p}history:{w}`;
      const keys = [`${p}running:{w}`, `${p}last-run:{w}`, `${p}last-run:{w}`, h];
      for (let i = 1; i <= 5; i++) await run(RELEASE, keys, ['', `{"n":${i}}`, '3:60000:=']);
      // A skipped slot: an entry of its own, the last-run record untouched.
      await run(RELEASE, keys, ['', '', '3:60000:{"skip":1}']);
      assert.deepEqual(await suite.admin.lrange(h, 0, -1), ['{"skip":1}', '{"n":5}', '{"n":4}']);
      assert.equal(await suite.admin.get(`${p}last-run:{w}`), '{"n":5}');
      const ttl = await suite.admin.pttl(h);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `history expiry ${ttl}`);
      // The default bounds need no prefix: `=` alone.
      const d = `${p}history:{d}`;
      await run(
        RELEASE,
        [`${p}running:{d}`, `${p}last-run:{d}`, `${p}last-run:{d}`, d],
        ['', '{"d":1}', '='],
      );
      assert.deepEqual(await suite.admin.lrange(d, 0, -1), ['{"d":1}']);
      assert.ok((await suite.admin.pttl(d)) > 27 * 24 * 3600 * 1000, 'the default expiry is 4 weeks');
    });

    void test(`RELEASE: an item naming a last-success key stores the record there too; others leave it (${form})`, async () => {
      const { p, run } = setup(form);
      const none = [''];
      await suite.admin.set(`${p}running:{a}`, 'mine');
      const ok = [`${p}running:{a}`, `${p}last-run:{a}`, `${p}last-success:{a}`, `${p}last-run:{a}`];
      assert.deepEqual(await run(RELEASE, ok, ['mine', '{"result":"ok"}', ...none]), [1]);
      assert.equal(await suite.admin.get(`${p}last-success:{a}`), '{"result":"ok"}');
      // A failed run's record (no last-success key): the last success stays the ok one.
      const failed = [`${p}running:{a}`, `${p}last-run:{a}`, `${p}last-run:{a}`, `${p}last-run:{a}`];
      assert.deepEqual(await run(RELEASE, failed, ['', '{"result":"failed"}', ...none]), [0]);
      assert.equal(await suite.admin.get(`${p}last-run:{a}`), '{"result":"failed"}');
      assert.equal(await suite.admin.get(`${p}last-success:{a}`), '{"result":"ok"}');
      // A release without a record writes no last success even when the key is named.
      const bare = [`${p}running:{b}`, `${p}running:{b}`, `${p}last-success:{b}`, `${p}running:{b}`];
      await run(RELEASE, bare, ['t', '', ...none]);
      assert.equal(await suite.admin.exists(`${p}last-success:{b}`), 0);
    });

    void test(`EXTEND: resets the TTL of a key holding the token, only (${form})`, async () => {
      const { p, run } = setup(form);
      await suite.admin.set(`${p}a`, 'mine', 'PX', 1000);
      await suite.admin.set(`${p}b`, 'theirs', 'PX', 1000);
      assert.deepEqual(
        await run(EXTEND, [`${p}a`, `${p}b`, `${p}c`], ['mine', '9000', 'mine', '9000', 'mine', '9000']),
        [1, 0, 0],
      );
      assert.ok((await suite.admin.pttl(`${p}a`)) > 8_000);
      assert.ok((await suite.admin.pttl(`${p}b`)) <= 1_000);
    });
  }

  void test('ADVANCE_CHAIN: compare-and-set from no chain, then from the end followed', async () => {
    const { p, run } = setup();
    const key = `${p}chain:{w}`;
    assert.equal(await run(ADVANCE_CHAIN, [key], ['', '1000']), 1);
    assert.equal(await run(ADVANCE_CHAIN, [key], ['', '2000']), 0);
    assert.equal(await run(ADVANCE_CHAIN, [key], ['1000', '2000']), 1);
    assert.equal(await suite.admin.get(key), '2000');
  });
});
