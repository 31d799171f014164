import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { createRedisCoordinator } from '../../internal/watcher/lock/index.js';
import type { Coordinator, Lease } from '../../internal/watcher/lock/index.js';
import { claimOne } from '../helpers/claim.js';
import { failureStreak, readHistory } from '../../internal/watcher/lock/redis/control.js';
import { CLOSED_PORT, randomPrefix, testRedis } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('Redis coordinator (real Redis)', () => {
  const suite = redisSuite();
  const { prefixes, clients } = suite;

  const make = (prefix: string, instanceId: string, leaseMs = 1000): { c: Coordinator; redis: Redis } => {
    const redis = testRedis();
    clients.push(redis);
    return { c: createRedisCoordinator({ redis, keyPrefix: prefix, leaseMs, instanceId }), redis };
  };

  void test('a slot is claimed once across coordinators, and the claim key expires', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const cs = ['a', 'b', 'c'].map((id) => make(prefix, id).c);
    const slot = Date.UTC(2030, 0, 1);
    const outcomes = (await Promise.all(cs.map((c) => claimOne(c, 'w', slot, 60_000)))).map((r) => r.claim);
    assert.deepEqual(outcomes.filter((o) => o === 'claimed').length, 1);
    assert.deepEqual(outcomes.filter((o) => o === 'taken').length, 2);
    const key = `${prefix}slot:{w}:2030-01-01T00:00:00.000Z`;
    const ttl = await suite.admin.pttl(key);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `claim key ${key} has a TTL (${ttl})`);
    assert.equal(await cs[0]!.isClaimed('w', slot), true);
    assert.equal(await cs[0]!.isClaimed('w', slot + 1000), false);
    await Promise.all(cs.map((c) => c.close()));
  });

  void test('a slot given back by its claimer (and only by it) can be claimed by another instance', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a').c;
    const b = make(prefix, 'b').c;
    const slot = Date.UTC(2030, 0, 1, 0, 0, 5);
    const won = await claimOne(a, 'w', slot, 60_000);
    assert.equal(won.claim, 'claimed');
    if (won.claim !== 'claimed' || won.lease.outcome !== 'acquired') throw new Error('no lease');
    assert.equal((await claimOne(b, 'w', slot, 60_000)).claim, 'taken');
    // Another instance's token deletes nothing.
    await b.unclaimSlot('w', slot, 'not-the-claim-token');
    assert.equal(await b.isClaimed('w', slot), true);
    await Promise.all([won.lease.lease.release(), a.unclaimSlot('w', slot, won.token)]);
    assert.equal(await b.isClaimed('w', slot), false);
    const second = await claimOne(b, 'w', slot, 60_000);
    assert.equal(second.claim, 'claimed');
    if (second.claim === 'claimed' && second.lease.outcome === 'acquired') await second.lease.lease.release();
  });

  void test('the running lease excludes a second holder; released, it can be taken again', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a').c;
    const b = make(prefix, 'b').c;
    const ra = await a.acquireLease('w', { kind: 'running' });
    assert.equal(ra.outcome, 'acquired');
    assert.equal((await b.acquireLease('w', { kind: 'running' })).outcome, 'held');
    assert.equal(await b.isRunning('w'), true);
    // Per-slot leases (overlap allow) do not collide with each other.
    assert.equal((await b.acquireLease('w', { kind: 'slot', slotMs: 1000 })).outcome, 'acquired');
    assert.equal((await a.acquireLease('w', { kind: 'slot', slotMs: 2000 })).outcome, 'acquired');
    if (ra.outcome === 'acquired') await ra.lease.release();
    assert.equal(await b.isRunning('w'), false);
    assert.equal((await b.acquireLease('w', { kind: 'running' })).outcome, 'acquired');
    await a.close();
    await b.close();
  });

  void test('a lease is extended while held, well past its length', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a', 600).c;
    const b = make(prefix, 'b', 600).c;
    const r = await a.acquireLease('w', { kind: 'running' });
    assert.equal(r.outcome, 'acquired');
    const lease = (r as { lease: Lease }).lease;
    await sleep(2000); // more than three lease lengths
    assert.equal(lease.lost, false);
    assert.equal(lease.signal.aborted, false);
    assert.equal((await b.acquireLease('w', { kind: 'running' })).outcome, 'held');
    await lease.release();
  });

  void test('a killed holder (client dropped, no more extensions) frees the lease within leaseMs', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const leaseMs = 1000;
    const holder = make(prefix, 'holder', leaseMs);
    const other = make(prefix, 'other', leaseMs).c;
    const r = await holder.c.acquireLease('w', { kind: 'running' });
    assert.equal(r.outcome, 'acquired');
    const t0 = Date.now();
    holder.redis.disconnect(); // the holder's process "dies": its extensions fail from now on
    let takenAfter = -1;
    while (Date.now() - t0 < leaseMs * 2) {
      const o = await other.acquireLease('w', { kind: 'running' });
      if (o.outcome === 'acquired') {
        takenAfter = Date.now() - t0;
        await o.lease.release();
        break;
      }
      await sleep(50);
    }
    assert.ok(takenAfter >= 0, 'another instance took the lease');
    assert.ok(takenAfter <= leaseMs + 150, `within the lease (${takenAfter} ms)`);
    // The dropped holder notices it can no longer extend and aborts its run.
    const lease = (r as { lease: Lease }).lease;
    await sleep(leaseMs);
    assert.equal(lease.lost, true);
    assert.equal(lease.signal.aborted, true);
    await lease.release();
  });

  void test('a lease taken over by someone else is lost at the next extension', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a', 900).c;
    const r = await a.acquireLease('w', { kind: 'running' });
    const lease = (r as { lease: Lease }).lease;
    await suite.admin.set(lease.key, 'someone-else', 'PX', 5000); // the key now has another owner
    await sleep(500);
    assert.equal(lease.lost, true);
    assert.equal((lease.signal.reason as { code?: string }).code, 'LEASE_LOST');
    await lease.release();
    assert.equal(await suite.admin.get(lease.key), 'someone-else', 'release deletes only our own key');
  });

  void test('fixed-delay chain: compare-and-set, and last-run records', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a').c;
    const b = make(prefix, 'b').c;
    assert.equal(await a.chainEnd('w'), undefined);
    assert.equal(await a.advanceChain('w', undefined, 1000), true);
    assert.equal(await b.advanceChain('w', undefined, 1001), false);
    assert.equal(await b.chainEnd('w'), 1000);
    assert.equal(await b.advanceChain('w', 1000, 5000), true);
    assert.equal(await a.chainEnd('w'), 5000);
    const record = {
      watcher: 'w',
      slotMs: 4000,
      instance: 'b',
      result: 'ok' as const,
      startedMs: 4001,
      durationMs: 999,
      counts: { deleted: 3 },
    };
    await b.recordRun(record);
    assert.deepEqual(await a.lastRun('w'), record);
    assert.equal(await a.lastRun('other'), undefined);
  });

  void test('run history: finished runs and overlap skips, newest first, bounded by history.size', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const redis = testRedis();
    clients.push(redis);
    const c = createRedisCoordinator({
      redis,
      keyPrefix: prefix,
      leaseMs: 1000,
      instanceId: 'a',
      history: { size: 3, maxAgeMs: 60_000 },
    });
    const t0 = Date.UTC(2030, 0, 1);
    for (let i = 0; i < 4; i++) {
      const lease = await c.acquireLease('w', { kind: 'running' });
      if (lease.outcome !== 'acquired') throw new Error('no lease');
      const result = i === 2 ? 'failed' : 'ok';
      await c.finishRuns([
        {
          lease: lease.lease,
          record: {
            watcher: 'w',
            slotMs: t0 + i * 1000,
            instance: 'a',
            result,
            startedMs: Date.now(),
            durationMs: 5,
            counts: { n: i },
            ...(result === 'failed' ? { error: 'boom' } : {}),
          },
        },
      ]);
    }
    await c.recordSkipped?.('w', t0 + 4000, 'a', 'overlap');
    const h = await readHistory(redis, prefix, 'w', 10);
    assert.deepEqual(
      h.map((e) => [e.slotMs - t0, e.result]),
      [
        [4000, 'skipped: overlap'],
        [3000, 'ok'],
        [2000, 'failed'],
      ],
    );
    assert.equal(h[2]?.error, 'boom');
    assert.equal((await c.lastRun('w'))?.slotMs, t0 + 3000, 'a skip leaves the last-run record alone');
    assert.equal(failureStreak(h), 0);
    assert.equal(failureStreak(h.slice(2)), 1);
    const ttl = await suite.admin.pttl(`${prefix}history:{w}`);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `history expiry ${ttl}`);
    await c.close();
  });

  void test("last success: written with an ok run's release, kept through a failed one, read by any instance", async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a').c;
    const b = make(prefix, 'b').c;
    const record = (slotMs: number, result: 'ok' | 'failed') => ({
      watcher: 'w',
      slotMs,
      instance: 'a',
      result,
      startedMs: slotMs,
      durationMs: 7,
      counts: {},
    });
    assert.equal(await b.lastSuccess('w'), undefined);
    const run = async (slotMs: number, result: 'ok' | 'failed') => {
      const lease = await a.acquireLease('w', { kind: 'running' });
      if (lease.outcome !== 'acquired') throw new Error('not leased');
      await a.finishRuns([{ lease: lease.lease, record: record(slotMs, result) }]);
      assert.equal(await suite.admin.exists(lease.lease.key), 0, 'the lease is released');
    };
    await run(1_000, 'ok');
    assert.deepEqual(await b.lastSuccess('w'), record(1_000, 'ok'));
    await run(2_000, 'failed');
    assert.deepEqual(await b.lastRun('w'), record(2_000, 'failed'));
    assert.deepEqual(await b.lastSuccess('w'), record(1_000, 'ok'), 'a failed run leaves the last success');
    await b.recordRun(record(3_000, 'ok')); // a manual run's record alone
    assert.deepEqual(await a.lastSuccess('w'), record(3_000, 'ok'));
    await a.close();
    await b.close();
  });

  void test('many slots claimed at once: each claimed, taken or held exactly as one by one', async () => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const a = make(prefix, 'a').c;
    const b = make(prefix, 'b').c;
    const slot = Date.UTC(2030, 0, 2);
    // w1 will be taken by b first; w2's running lease is held (a run of an earlier slot); w0..: free.
    const early = await claimOne(b, 'w1', slot, 60_000);
    assert.equal(early.claim, 'claimed');
    const busy = await b.acquireLease('w2', { kind: 'running' });
    assert.equal(busy.outcome, 'acquired');
    const names = Array.from({ length: 250 }, (_, i) => `w${i}`);
    const requests = names.map((watcher) => ({
      watcher,
      slotMs: slot,
      retainMs: 60_000,
      scope: watcher === 'w3' ? ({ kind: 'slot', slotMs: slot } as const) : ({ kind: 'running' } as const),
    }));
    const results = await a.claimAndLease(requests);
    assert.equal(results.length, 250);
    assert.equal(results[1]!.claim, 'taken');
    const r2 = results[2]!;
    assert.ok(r2.claim === 'claimed' && r2.lease.outcome === 'held', 'claimed, but the lease is held');
    for (const i of [0, 3, 4, 120, 249]) {
      const r = results[i]!;
      assert.ok(r.claim === 'claimed' && r.lease.outcome === 'acquired', `w${i} claimed and leased`);
    }
    const leased = results.filter((r) => r.claim === 'claimed' && r.lease.outcome === 'acquired');
    assert.equal(leased.length, 248);
    // The claims and leases are real keys: a second coordinator finds all of them taken or held.
    const again = await b.claimAndLease(requests);
    assert.equal(again.filter((r) => r.claim === 'taken').length, 250);
    assert.equal(await b.isRunning('w0'), true);
    const r3 = results[3]!;
    const r0 = results[0]!;
    if (r3.claim !== 'claimed' || r3.lease.outcome !== 'acquired') throw new Error('w3 not leased');
    assert.equal(r3.lease.lease.key, `${prefix}running:{w3}:2030-01-02T00:00:00.000Z`);
    if (r0.claim !== 'claimed' || r0.lease.outcome !== 'acquired') throw new Error('w0 not leased');
    // finishRuns: releases each lease that is still its own, and stores every record.
    const record = (watcher: string) => ({
      watcher,
      slotMs: slot,
      instance: 'a',
      result: 'ok' as const,
      startedMs: slot,
      durationMs: 5,
      counts: { deleted: 1 },
    });
    await r0.lease.lease.release(); // released before: the record alone is written
    await suite.admin.set(`${prefix}running:{w4}`, 'someone-else', 'PX', 5000);
    const r4 = results[4]!;
    if (r4.claim !== 'claimed' || r4.lease.outcome !== 'acquired') throw new Error('w4 not leased');
    await a.finishRuns([
      { lease: r0.lease.lease, record: record('w0') },
      { lease: r3.lease.lease, record: record('w3') },
      { lease: r4.lease.lease, record: record('w4') },
    ]);
    assert.equal(await suite.admin.exists(r3.lease.lease.key), 0, 'w3 lease released');
    assert.equal(await suite.admin.get(`${prefix}running:{w4}`), 'someone-else', 'not our key: kept');
    for (const w of ['w0', 'w3', 'w4']) assert.deepEqual(await b.lastRun(w), record(w));
    await a.close();
    await b.close();
  });

  void test('Redis unreachable: claims and leases say "unavailable", no rejection escapes', async () => {
    const prefix = randomPrefix();
    const dead = testRedis(CLOSED_PORT);
    clients.push(dead);
    const c = createRedisCoordinator({ redis: dead, keyPrefix: prefix, leaseMs: 1000, instanceId: 'x' });
    assert.equal((await claimOne(c, 'w', 1000, 10_000)).claim, 'unavailable');
    assert.equal(c.available, false);
    assert.equal((await c.acquireLease('w', { kind: 'running' })).outcome, 'unavailable');
    const many = await c.claimAndLease([
      { watcher: 'w', slotMs: 1000, retainMs: 10_000, scope: { kind: 'running' } },
      { watcher: 'v', slotMs: 1000, retainMs: 10_000, scope: { kind: 'slot', slotMs: 1000 } },
    ]);
    assert.deepEqual(
      many.map((r) => r.claim),
      ['unavailable', 'unavailable'],
    );
    await assert.rejects(c.chainEnd('w'));
    await c.close();
  });
});
