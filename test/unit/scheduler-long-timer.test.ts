import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../internal/pkg/clock/clock.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MAX_TIMER_CHUNK_MS, setTimerAt } from '../../internal/watcher/scheduler/long-timer.js';

/** The largest delay Node's `setTimeout` honours (it fires after 1 ms for longer ones). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A manual clock that records every delay asked of setTimeout. */
class RecordingClock extends ManualClock implements Clock {
  readonly delays: number[] = [];
  override setTimeout(fn: () => void, delayMs: number): unknown {
    this.delays.push(delayMs);
    return super.setTimeout(fn, delayMs);
  }
}

void describe('setTimerAt', () => {
  // Weeks pass as a quiet clock (jump) and then the last minutes in real steps (advance): firing
  // the 36,000 one-minute links of 24.8 days one by one would take seconds of test time.
  void test('a target beyond 2^31-1 ms never asks setTimeout for more than 2^31-1 ms, and fires on time', async () => {
    const clock = new RecordingClock(0);
    const target = MAX_TIMEOUT_MS + 5_000; // 24.8 days and 5 s
    let firedAt = -1;
    setTimerAt(clock, target, () => (firedAt = clock.now()));
    await clock.advance(5 * MAX_TIMER_CHUNK_MS);
    clock.jump(MAX_TIMEOUT_MS - 7 * MAX_TIMER_CHUNK_MS);
    await clock.advance(2 * MAX_TIMER_CHUNK_MS);
    assert.equal(clock.now(), MAX_TIMEOUT_MS);
    assert.equal(firedAt, -1, 'not at 2^31-1 ms');
    await clock.advance(5_000);
    assert.equal(firedAt, target);
    assert.ok(Math.max(...clock.delays) <= MAX_TIMEOUT_MS);
  });

  void test('exactly 2^31-1 ms and 2^31 ms both fire at their instant', async () => {
    for (const target of [MAX_TIMEOUT_MS, MAX_TIMEOUT_MS + 1]) {
      const clock = new RecordingClock(0);
      let firedAt = -1;
      setTimerAt(clock, target, () => (firedAt = clock.now()));
      clock.jump(target - 3 * MAX_TIMER_CHUNK_MS);
      await clock.advance(3 * MAX_TIMER_CHUNK_MS - 1);
      assert.equal(firedAt, -1);
      await clock.advance(1);
      assert.equal(firedAt, target);
    }
  });

  void test('the default chain re-reads the wall clock at least every minute', async () => {
    const clock = new RecordingClock(0);
    setTimerAt(clock, 3_600_000, () => undefined);
    await clock.advance(3_600_000);
    assert.ok(clock.delays.every((d) => d <= MAX_TIMER_CHUNK_MS));
    assert.equal(clock.delays.length, 60);
  });

  void test('a wall-clock jump forward fires within one link, not at the stale deadline', async () => {
    const clock = new ManualClock(0);
    let firedAt = -1;
    setTimerAt(clock, 86_400_000, () => (firedAt = clock.now()));
    clock.jump(86_400_000); // NTP step or resumed VM
    await clock.advance(MAX_TIMER_CHUNK_MS);
    assert.ok(firedAt >= 86_400_000 && firedAt <= 86_400_000 + MAX_TIMER_CHUNK_MS);
  });

  void test('a wall-clock jump backward does not fire early', async () => {
    const clock = new ManualClock(1_000_000);
    let fired = false;
    setTimerAt(clock, 1_000_000 + 120_000, () => (fired = true));
    await clock.advance(60_000);
    clock.jump(-60_000);
    await clock.advance(60_000);
    assert.equal(fired, false, 'the wall clock says 1 min is still left');
    await clock.advance(60_000);
    assert.equal(fired, true);
  });

  void test('cancel stops it', async () => {
    const clock = new ManualClock(0);
    let fired = false;
    const t = setTimerAt(clock, 200_000, () => (fired = true));
    await clock.advance(100_000);
    t.cancel();
    await clock.advance(200_000);
    assert.equal(fired, false);
    assert.equal(clock.pending, 0);
  });
});
