/**
 * The Redis row claims of status watchers, script by script, against the real Redis: two replicas
 * (two tokens) on the same watcher, and the keys each call leaves behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedisRowClaims, rowKeyNames } from '../../internal/watcher/lock/index.js';
import type { RowClaims } from '../../internal/watcher/lock/row-claims.js';
import { randomPrefix, testRedis } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

void describe('status row claims (real Redis)', () => {
  const suite = redisSuite();

  const setup = (): { a: RowClaims; b: RowClaims; k: ReturnType<typeof rowKeyNames> } => {
    const p = randomPrefix();
    suite.prefixes.push(p);
    const client = testRedis();
    suite.clients.push(client);
    const claims = (instanceId: string): RowClaims =>
      createRedisRowClaims({ redis: client, keyPrefix: p, watcher: 'jobs', instanceId });
    return { a: claims('a'), b: claims('b'), k: rowKeyNames(p, 'jobs') };
  };

  void test('claim: one holder per row, attempt 1 first, rows in the index until their lease ends', async () => {
    const { a, b, k } = setup();
    assert.deepEqual(
      [...(await a.claim(['1', '2'], 5000))],
      [
        ['1', 1],
        ['2', 1],
      ],
    );
    assert.deepEqual([...(await b.claim(['2', '3'], 5000))], [['3', 1]], "row 2 is a's");
    const ttl = await suite.admin.pttl(k.claim('1'));
    assert.ok(ttl > 4000 && ttl <= 5000, `lease ${ttl}`);
    const score = Number(await suite.admin.zscore(k.index, '1'));
    assert.ok(Math.abs(score - (Date.now() + 5000)) < 2000, 'indexed at the lease end');
    assert.deepEqual([...(await b.claimable(['1', '4']))], ['4']);
  });

  void test('retryLater: the row waits for its time, then comes back with the next attempt number', async () => {
    const { a, b } = setup();
    await a.claim(['1'], 5000);
    await a.retryLater('1', 1, 300, 60_000);
    assert.equal((await b.claim(['1'], 5000)).size, 0, 'not before its retry time');
    assert.deepEqual([...(await b.claimable(['1']))], []);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual([...(await b.due(10, 5000))], [['1', 2]], 'found in the index, attempt 2');
  });

  void test("settle: the holder's rows are kept as tombstones for the hold time and leave the index", async () => {
    const { a, b, k } = setup();
    await a.claim(['1', '2'], 5000);
    await a.retryLater('2', 1, 0, 60_000);
    await a.claim(['2'], 5000);
    await b.claim(['3'], 5000);
    const mine = await a.settle(['1', '2', '3'], 800);
    assert.deepEqual([...mine].sort(), ['1', '2'], "row 3 is b's: not a's to write");
    const ttl = await suite.admin.pttl(k.claim('1'));
    assert.ok(ttl > 500 && ttl <= 800, `tombstone ${ttl}`);
    assert.equal(await suite.admin.exists(k.retry('2')), 0, 'the attempt record goes');
    const score = Number(await suite.admin.zscore(k.index, '1'));
    assert.ok(Math.abs(score - (Date.now() + 800)) < 500, 'indexed at the tombstone end until its UPDATE');
    await a.settled(['1', '2']);
    assert.equal(await suite.admin.zscore(k.index, '1'), null, 'out of the index once settled');
    assert.notEqual(await suite.admin.zscore(k.index, '3'), null, "b's row stays indexed");
    assert.equal((await b.claim(['1', '2'], 5000)).size, 0, 'no claim during the tombstone');
    await new Promise((r) => setTimeout(r, 900));
    assert.deepEqual([...(await b.claim(['1'], 5000))], [['1', 1]], 'claimable after it');
  });

  void test('settle and extend take back an expired claim nobody took; release gives back only its own', async () => {
    const { a, b, k } = setup();
    await a.claim(['1', '2'], 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual([...(await a.extend(['1'], 5000))], ['1']);
    assert.deepEqual([...(await a.settle(['2'], 5000))], ['2']);
    await b.claim(['3'], 5000);
    await a.release(['1', '3']);
    assert.equal(await suite.admin.exists(k.claim('1')), 0);
    assert.equal(await suite.admin.exists(k.claim('3')), 1, "b's claim stays");
    assert.equal(await suite.admin.zscore(k.index, '1'), null);
  });

  void test('a batch larger than one Lua piece (2,500 rows) is indexed and settled whole', async () => {
    const { a, k } = setup();
    const ids = Array.from({ length: 2500 }, (_, i) => String(i + 1));
    assert.equal((await a.claim(ids, 5000)).size, 2500);
    assert.equal(await suite.admin.zcard(k.index), 2500);
    assert.equal((await a.extend(ids, 5000)).size, 2500);
    assert.equal((await a.settle(ids, 5000)).size, 2500);
    await a.settled(ids);
    assert.equal(await suite.admin.zcard(k.index), 0);
  });
});
