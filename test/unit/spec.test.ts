import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchedule, parseSchedule } from '../../internal/watcher/scheduler/spec.js';

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();
const at = (s: string): number => Date.parse(s);
const slots = (spec: string, from: string, n: number, timeZone = 'UTC'): string[] =>
  parseSchedule(spec, { timeZone })
    .nextSlots(at(from), n)
    .map((ms) => new Date(ms).toISOString());

void describe('checkSchedule: valid specs', () => {
  for (const spec of [
    '* * * * *',
    '*/5 * * * *',
    '0 0 * * *',
    '30 2 * * 1-5',
    '0 30 2 * * *',
    '*/10 * * * * *',
    '0 0 1,15 * *',
    '0 9 * JAN-MAR mon,wed,FRI',
    '0 0 ? * SUN',
    '5/15 * * * *',
    '0 0 * * 7',
    '@yearly',
    '@annually',
    '@monthly',
    '@weekly',
    '@daily',
    '@midnight',
    '@hourly',
    '@every 1s',
    '@every 500ms',
    '@every 1d',
    '@every 2w',
    '@every 1h30m',
    '@every 1d/3h',
    '@every 1d/18h30m',
    '@every 1h/0',
  ]) {
    void test(spec, () => assert.equal(checkSchedule(spec, 'fixed-rate', 'UTC'), undefined));
  }
  void test('@every in fixed-delay', () =>
    assert.equal(checkSchedule('@every 2s', 'fixed-delay', undefined), undefined));
});

void describe('checkSchedule: problems name the part that is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['61 * * * *', /minute field "61": value 61 is out of range 0-59/],
    ['* 24 * * *', /hour field "24"/],
    ['* * 32 * *', /day-of-month field "32": value 32 is out of range 1-31/],
    ['* * * 13 *', /month field "13"/],
    ['* * * * 8', /day-of-week field "8"/],
    ['60 * * * * *', /second field "60"/],
    ['* * * * ', /5 fields .* or 6/],
    ['* * * *', /got 4/],
    ['1 2 3 4 5 6 7', /got 7/],
    ['*/0 * * * *', /step "0"/],
    ['5-1 * * * *', /runs backwards/],
    ['* * * JANX *', /"JANX" is not a number/],
    ['x * * * *', /minute field "x"/],
    ['0 0 30 2 *', /never fires/],
    ['@fortnightly', /unknown descriptor/],
    ['@every', /needs a duration/],
    ['@every 1x', /not a duration/],
    ['@every 0', /above 0/],
    ['@every -1s', /negative/],
    ['@every 1d/25h', /phase 25h must be less than the interval 1d/],
    ['@every 1d/1d', /phase 1d must be less than the interval 1d/],
    ['@every 1d/-1h', /phase: negative duration "-1h"/],
    ['@every 1d/', /phase: empty duration/],
    ['@every 1d/3x', /phase: "3x" is not a duration/],
    ['@every 1d/3h/1h', /at most one phase/],
    ['@every 0/0', /above 0/],
  ];
  for (const [spec, re] of cases) {
    void test(spec, () => assert.match(checkSchedule(spec, 'fixed-rate', 'UTC') ?? '(no problem)', re));
  }
  void test('fixed-delay with a cron spec is a problem', () =>
    assert.match(checkSchedule('0 * * * *', 'fixed-delay', 'UTC') ?? '', /fixed-delay.*@every/));
  void test('unknown time zone', () =>
    assert.match(
      checkSchedule('0 * * * *', 'fixed-rate', 'Mars/Olympus') ?? '',
      /time zone "Mars\/Olympus"/,
    ));
});

void describe('cron slot arithmetic', () => {
  void test('5 fields: second is 0, next is strictly after', () => {
    assert.deepEqual(slots('*/15 * * * *', '2024-01-01T00:00:00Z', 3), [
      '2024-01-01T00:15:00.000Z',
      '2024-01-01T00:30:00.000Z',
      '2024-01-01T00:45:00.000Z',
    ]);
  });
  void test('6 fields: seconds first', () => {
    assert.deepEqual(slots('*/20 * * * * *', '2024-01-01T00:00:00.500Z', 3), [
      '2024-01-01T00:00:20.000Z',
      '2024-01-01T00:00:40.000Z',
      '2024-01-01T00:01:00.000Z',
    ]);
  });
  void test('lists, ranges, names', () => {
    assert.deepEqual(slots('0 9,17 * * MON-FRI', '2024-01-05T10:00:00Z', 3), [
      '2024-01-05T17:00:00.000Z', // Friday
      '2024-01-08T09:00:00.000Z', // Monday
      '2024-01-08T17:00:00.000Z',
    ]);
  });
  void test('a/n means from a to the end of the field', () => {
    assert.deepEqual(slots('50/5 * * * *', '2024-01-01T00:00:00Z', 3), [
      '2024-01-01T00:50:00.000Z',
      '2024-01-01T00:55:00.000Z',
      '2024-01-01T01:50:00.000Z',
    ]);
  });
  void test('descriptors', () => {
    const from = '2024-05-15T12:34:56Z';
    assert.deepEqual(slots('@yearly', from, 1), ['2025-01-01T00:00:00.000Z']);
    assert.deepEqual(slots('@annually', from, 1), ['2025-01-01T00:00:00.000Z']);
    assert.deepEqual(slots('@monthly', from, 1), ['2024-06-01T00:00:00.000Z']);
    assert.deepEqual(slots('@weekly', from, 1), ['2024-05-19T00:00:00.000Z']); // Sunday
    assert.deepEqual(slots('@daily', from, 1), ['2024-05-16T00:00:00.000Z']);
    assert.deepEqual(slots('@midnight', from, 1), ['2024-05-16T00:00:00.000Z']);
    assert.deepEqual(slots('@hourly', from, 1), ['2024-05-15T13:00:00.000Z']);
  });
  void test('day-of-month and day-of-week: either matches (crontab OR)', () => {
    // 13th of the month OR any Friday, September 2024 (Fri 6, 13, 20, 27; the 13th is a Friday too).
    assert.deepEqual(slots('0 0 13 * 5', '2024-09-01T00:00:00Z', 4), [
      '2024-09-06T00:00:00.000Z',
      '2024-09-13T00:00:00.000Z',
      '2024-09-20T00:00:00.000Z',
      '2024-09-27T00:00:00.000Z',
    ]);
    assert.deepEqual(slots('0 0 1 * MON', '2024-06-25T00:00:00Z', 3), [
      '2024-07-01T00:00:00.000Z', // 1st and a Monday
      '2024-07-08T00:00:00.000Z',
      '2024-07-15T00:00:00.000Z',
    ]);
  });
  void test('time zone: local midnight in Asia/Tokyo', () => {
    assert.deepEqual(slots('@daily', '2024-01-01T00:00:00Z', 1, 'Asia/Tokyo'), ['2024-01-01T15:00:00.000Z']);
  });
  void test('previous is strictly before', () => {
    const s = parseSchedule('0 * * * *', { timeZone: 'UTC' });
    assert.equal(iso(s.previous(at('2024-01-01T10:00:00Z'))), '2024-01-01T09:00:00.000Z');
    assert.equal(iso(s.previous(at('2024-01-01T10:00:00.001Z'))), '2024-01-01T10:00:00.000Z');
    assert.equal(iso(s.previous(at('2024-01-01T10:30:00Z'))), '2024-01-01T10:00:00.000Z');
  });
  void test('next is strictly after, also when asked from a slot', () => {
    const s = parseSchedule('0 * * * *', { timeZone: 'UTC' });
    assert.equal(iso(s.next(at('2024-01-01T10:00:00Z'))), '2024-01-01T11:00:00.000Z');
    assert.equal(iso(s.next(at('2024-01-01T09:59:59.999Z'))), '2024-01-01T10:00:00.000Z');
  });
});

void describe('DST (cron behaviour)', () => {
  void test('America/New_York spring forward: 02:30 does not exist, runs once right after the jump', () => {
    assert.deepEqual(slots('30 2 * * *', '2024-03-09T12:00:00Z', 3, 'America/New_York'), [
      '2024-03-10T07:00:00.000Z', // 03:00 EDT, right after the jump
      '2024-03-11T06:30:00.000Z', // 02:30 EDT
      '2024-03-12T06:30:00.000Z',
    ]);
  });
  void test('America/New_York fall back: 01:30 happens twice, runs once', () => {
    assert.deepEqual(slots('30 1 * * *', '2024-11-02T12:00:00Z', 3, 'America/New_York'), [
      '2024-11-03T05:30:00.000Z', // 01:30 EDT, the first occurrence only
      '2024-11-04T06:30:00.000Z', // 01:30 EST
      '2024-11-05T06:30:00.000Z',
    ]);
  });
  void test('Europe/Berlin spring forward: 02:00 and 03:00 collapse into one run', () => {
    assert.deepEqual(slots('0 2,3 * * *', '2024-03-30T12:00:00Z', 3, 'Europe/Berlin'), [
      '2024-03-31T01:00:00.000Z', // 03:00 CEST: the skipped 02:00 and the real 03:00, once
      '2024-04-01T00:00:00.000Z',
      '2024-04-01T01:00:00.000Z',
    ]);
  });
  void test('Europe/Berlin fall back: 02:30 happens twice, runs once', () => {
    assert.deepEqual(slots('30 2 * * *', '2024-10-26T12:00:00Z', 2, 'Europe/Berlin'), [
      '2024-10-27T00:30:00.000Z', // 02:30 CEST
      '2024-10-28T01:30:00.000Z', // 02:30 CET next day
    ]);
  });
  void test('wildcard jobs follow elapsed time across fall back (every 30 minutes stays every 30 minutes)', () => {
    assert.deepEqual(slots('*/30 * * * *', '2024-11-03T05:15:00Z', 4, 'America/New_York'), [
      '2024-11-03T05:30:00.000Z',
      '2024-11-03T06:00:00.000Z',
      '2024-11-03T06:30:00.000Z',
      '2024-11-03T07:00:00.000Z',
    ]);
  });
});

void describe('@every', () => {
  void test('fixed-rate slots lie on the epoch grid, wherever you ask from', () => {
    const s = parseSchedule('@every 1h30m', {});
    const interval = 5_400_000;
    const a = s.next(at('2024-01-01T00:00:00Z'));
    const b = s.next(at('2024-01-01T00:07:13.123Z'));
    assert.equal(a % interval, 0);
    assert.equal(a, b);
    assert.deepEqual(s.nextSlots(a - 1, 3), [a, a + interval, a + 2 * interval]);
    assert.equal(s.next(a), a + interval);
    assert.equal(s.previous(a), a - interval);
    assert.equal(s.previous(a + 1), a);
  });
  void test('@every 1d is midnight UTC (epoch-anchored), in any zone', () => {
    const s = parseSchedule('@every 1d', { timeZone: 'America/New_York' });
    assert.equal(iso(s.next(at('2024-03-10T12:00:00Z'))), '2024-03-11T00:00:00.000Z');
  });
  void test('a custom origin moves the grid', () => {
    const s = parseSchedule('@every 1h', { originMs: 15 * 60_000 });
    assert.equal(iso(s.next(at('2024-01-01T00:00:00Z'))), '2024-01-01T00:15:00.000Z');
  });
  void test('a phase puts the slots that long after each grid point (@every 1d/3h: 03:00 UTC)', () => {
    const s = parseSchedule('@every 1d/3h', { timeZone: 'Asia/Shanghai' });
    assert.deepEqual(s.nextSlots(at('2024-03-10T12:00:00Z'), 3).map(iso), [
      '2024-03-11T03:00:00.000Z',
      '2024-03-12T03:00:00.000Z',
      '2024-03-13T03:00:00.000Z',
    ]);
    assert.equal(iso(s.next(at('2024-03-11T02:59:59.999Z'))), '2024-03-11T03:00:00.000Z');
    assert.equal(iso(s.next(at('2024-03-11T03:00:00Z'))), '2024-03-12T03:00:00.000Z');
    assert.equal(iso(s.previous(at('2024-03-11T03:00:00Z')) ?? 0), '2024-03-10T03:00:00.000Z');
    assert.equal(iso(s.previous(at('2024-03-11T03:00:00.001Z')) ?? 0), '2024-03-11T03:00:00.000Z');
    assert.equal(s.intervalMs, 86_400_000);
  });
  void test('a phase of 0 is the plain grid; a phase adds to a custom origin', () => {
    assert.equal(
      parseSchedule('@every 1h/0', {}).next(at('2024-01-01T00:00:00Z')),
      at('2024-01-01T01:00:00Z'),
    );
    const s = parseSchedule('@every 1h/10m', { originMs: 15 * 60_000 });
    assert.equal(iso(s.next(at('2024-01-01T00:00:00Z'))), '2024-01-01T00:25:00.000Z');
  });
  void test('fixed-delay with a phase starts its chain on the shifted grid', () => {
    const s = parseSchedule('@every 10s/3s', { mode: 'fixed-delay' });
    assert.equal(s.first(1_000_123), 1_003_000);
    assert.equal(s.next(1_000_123), 1_010_123);
  });
  void test('fixed-delay: next is the previous end plus the interval; the chain starts on the grid', () => {
    const s = parseSchedule('@every 2s', { mode: 'fixed-delay' });
    assert.equal(s.next(1_000_123), 1_002_123);
    assert.deepEqual(s.nextSlots(1_000_123, 3), [1_002_123, 1_004_123, 1_006_123]);
    assert.equal(s.first(1_000_123), 1_002_000);
  });
  void test('slots beyond 2^31-1 ms are exact (@every 30d)', () => {
    const s = parseSchedule('@every 30d', {});
    const interval = 30 * 86_400_000;
    assert.ok(interval > 2 ** 31 - 1);
    const n = s.next(at('2024-01-01T00:00:00Z'));
    assert.equal(n % interval, 0);
    assert.equal(s.next(n), n + interval);
  });
});
