/** Retry delays of status watchers: exponential, capped, with equal jitter; bounded retry records. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs, retryKeepMs } from '../../internal/watcher/kit/status-backoff.js';

void describe('retryDelayMs', () => {
  void it('doubles from the backoff and stops at the maximum', () => {
    const top = (attempt: number): number => retryDelayMs(attempt, 10_000, 600_000, () => 1);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map(top),
      [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000],
    );
  });

  void it('jitters within the upper half of the delay', () => {
    assert.equal(
      retryDelayMs(1, 10_000, 600_000, () => 0),
      5000,
    );
    assert.equal(
      retryDelayMs(3, 10_000, 600_000, () => 0.5),
      30_000,
    );
    for (let i = 0; i < 1000; i++) {
      const d = retryDelayMs(2, 10_000, 600_000);
      assert.ok(d >= 10_000 && d <= 20_000, String(d));
    }
  });

  void it('never overflows on a large attempt number', () => {
    assert.equal(
      retryDelayMs(10_000, 10_000, 600_000, () => 1),
      600_000,
    );
  });
});

void describe('retryKeepMs', () => {
  void it('outlives the longest delay, and at least an hour', () => {
    assert.equal(retryKeepMs(600_000), 3_600_000);
    assert.equal(retryKeepMs(86_400_000), 3 * 86_400_000);
  });
});
