import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answersOfQuorum,
  judgeClaim,
  judgeExtend,
  poll,
  quorum,
  type Vote,
} from '../../internal/watcher/lock/redis/quorum.js';

const ok = (reply: unknown): Vote => ({ ok: true, reply });
const down = (message = 'down'): Vote => ({ ok: false, error: new Error(message) });

void describe('quorum voting', () => {
  void test('quorum(n) is a strict majority; one server is a quorum of one', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => quorum(n)),
      [1, 2, 2, 3, 3],
    );
  });

  void test('poll gives one vote per server in server order and never rejects', async () => {
    const votes = await poll([1, 2, 3], (n) =>
      n === 2 ? Promise.reject(new Error('no')) : Promise.resolve(n * 10),
    );
    assert.deepEqual(
      votes.map((v) => (v.ok ? v.reply : 'failed')),
      [10, 'failed', 30],
    );
  });

  void test('one server: its answer decides, and nothing is ever partial', () => {
    assert.deepEqual(judgeClaim([ok(1)], true), { kind: 'won', leased: true, partial: false });
    assert.deepEqual(judgeClaim([ok(2)], true), { kind: 'won', leased: false, partial: false });
    assert.deepEqual(judgeClaim([ok('someone')], true), { kind: 'taken', partial: false });
    const v = judgeClaim([down('gone')], true);
    assert.equal(v.kind, 'unavailable');
    assert.equal(v.kind === 'unavailable' && (v.error as Error).message, 'gone');
  });

  void test('three servers: a claim wins on two; the lease needs two of its own', () => {
    assert.deepEqual(judgeClaim([ok(1), ok(1), down()], true), { kind: 'won', leased: true, partial: false });
    // Claimed on a majority, but the lease is someone else's on one of them: give back the other.
    assert.deepEqual(judgeClaim([ok(1), ok(2), ok('x')], true), {
      kind: 'won',
      leased: false,
      partial: true,
    });
  });

  void test('three servers: another token on a majority is taken; no majority at all is a split', () => {
    assert.deepEqual(judgeClaim([ok(1), ok('b'), ok('b')], true), { kind: 'taken', partial: true });
    assert.deepEqual(judgeClaim([ok(1), ok('b'), ok('c')], true), { kind: 'split', partial: true });
    assert.deepEqual(judgeClaim([ok('a'), ok('b'), ok('c')], true), { kind: 'split', partial: false });
  });

  void test('three servers: fewer than two answers is unavailable, with what we hold to give back', () => {
    const v = judgeClaim([ok(1), down('one'), down('two')], true);
    assert.equal(v.kind, 'unavailable');
    assert.equal(v.partial, true);
    assert.equal(v.kind === 'unavailable' && (v.error as Error).message, 'one');
  });

  void test('a lease alone is held whenever it is not won, never split', () => {
    assert.deepEqual(judgeClaim([ok(1), ok('b'), ok('c')], false), { kind: 'taken', partial: true });
    assert.deepEqual(judgeClaim([ok('a'), ok('b'), ok('c')], false), { kind: 'taken', partial: false });
  });

  void test('extensions: extended on a majority, lost when a majority is out of reach', () => {
    assert.equal(judgeExtend([ok(1)]), 'extended');
    assert.equal(judgeExtend([ok(0)]), 'lost');
    assert.equal(judgeExtend([down()]), 'unanswered');
    assert.equal(judgeExtend([ok(1), ok(1), ok(0)]), 'extended');
    assert.equal(judgeExtend([ok(1), ok(0), ok(0)]), 'lost');
    assert.equal(judgeExtend([ok(1), ok(0), down()]), 'unanswered');
  });

  void test('answersOfQuorum: the replies of a majority, else the first error', () => {
    assert.deepEqual(answersOfQuorum([ok(1), down(), ok(3)]), [1, 3]);
    assert.throws(() => answersOfQuorum([ok(1), down('first'), down('second')]), /first/);
  });
});
