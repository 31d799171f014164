import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countSlots, dueSlots, gapAfter, parseSchedule } from '../../internal/watcher/scheduler/spec.js';

const T0 = Date.UTC(2030, 0, 1); // a Tuesday, midnight UTC

void describe('slot arithmetic', () => {
  void test('gapAfter: the @every interval, the distance to the next cron slot, 0 when none follows', () => {
    assert.equal(gapAfter(parseSchedule('@every 5s'), T0), 5_000);
    assert.equal(gapAfter(parseSchedule('0 0 * * * *', { timeZone: 'UTC' }), T0), 3_600_000);
    const never = { ...parseSchedule('@every 1s'), intervalMs: undefined, next: () => Infinity };
    assert.equal(gapAfter(never, T0), 0);
  });

  void test('dueSlots: on time, nothing overslept; the next slot is the one after', () => {
    assert.deepEqual(dueSlots(parseSchedule('@every 1s'), T0, T0 + 10), {
      latest: T0,
      overslept: 0,
      next: T0 + 1_000,
    });
  });

  void test('dueSlots: woken late, the latest due slot runs and the ones before it are overslept', () => {
    const every = parseSchedule('@every 1s');
    assert.deepEqual(dueSlots(every, T0, T0 + 4_200), { latest: T0 + 4_000, overslept: 4, next: T0 + 5_000 });
    const hourly = parseSchedule('0 0 * * * *', { timeZone: 'UTC' });
    assert.deepEqual(dueSlots(hourly, T0, T0 + 2.5 * 3_600_000), {
      latest: T0 + 2 * 3_600_000,
      overslept: 2,
      next: T0 + 3 * 3_600_000,
    });
  });

  void test('countSlots: slots after the first instant up to and including the second', () => {
    assert.equal(countSlots(parseSchedule('@every 1s'), T0, T0 + 5_000), 5);
    assert.equal(countSlots(parseSchedule('0 0 * * * *', { timeZone: 'UTC' }), T0, T0 + 3 * 3_600_000), 3);
  });
});
