/**
 * Schedule specs: what `watcher.<name>.schedule` may say, and the slot arithmetic the scheduler
 * needs (next slot, next n slots, previous slot). Cron specs are evaluated by croner (crontab's
 * day-of-month OR day-of-week meaning, cron's DST rules, IANA time zones); `@every` specs are the
 * project's own (an epoch-anchored grid, or a fixed delay after the previous run's end).
 */
import { Cron } from 'croner';
import type { ScheduleMode } from '../config.js';
import { ScheduleSpecError } from '../errors.js';
import { normalizeCron } from './cron-fields.js';
import { MAX_MISSED_COUNT } from './types.js';
import { gridNext, gridPrevious, isEverySpec, parseEvery } from './every.js';

/** How a spec is read. */
export interface ScheduleOptions {
  /** `fixed-rate` (default) or `fixed-delay`; only `@every` specs may be `fixed-delay`. */
  readonly mode?: ScheduleMode;
  /** IANA zone for cron specs; undefined = the process's local zone. Ignored by `@every`. */
  readonly timeZone?: string | undefined;
  /**
   * Origin of the `@every` grid in ms since the epoch; a phase in the spec (`@every 1d/3h`) is added
   * to it. @defaultValue 0 (the Unix epoch)
   */
  readonly originMs?: number;
}

/** A parsed spec. All times are milliseconds since the Unix epoch. */
export interface Schedule {
  readonly spec: string;
  readonly kind: 'cron' | 'every';
  readonly mode: ScheduleMode;
  readonly timeZone: string | undefined;
  /** The `@every` interval; undefined for cron specs. */
  readonly intervalMs: number | undefined;
  /**
   * The first slot strictly after `afterMs` (Infinity if the spec never fires again). For
   * `fixed-delay`, `afterMs` is the previous run's end and the answer is `afterMs + interval`.
   */
  next(afterMs: number): number;
  /** The next `n` slots strictly after `fromMs`, in order. */
  nextSlots(fromMs: number, n: number): number[];
  /**
   * The last slot strictly before `beforeMs`, or undefined when there is none. For `fixed-delay`,
   * the last grid slot (the chain restarts on the grid when no previous run is known).
   */
  previous(beforeMs: number): number | undefined;
  /**
   * The first slot strictly after `afterMs` where the chain starts when no previous run is known.
   * For every kind but `fixed-delay` this equals {@link Schedule.next}; for `fixed-delay` it is the
   * next grid slot, so that all instances agree on it.
   */
  first(afterMs: number): number;
}

/**
 * Checks a spec as config validation does.
 * @returns a problem message (saying which part is wrong and why) or undefined when the spec is fine.
 */
export function checkSchedule(
  spec: string,
  mode: ScheduleMode,
  timeZone: string | undefined,
): string | undefined {
  try {
    parseSchedule(spec, { mode, timeZone });
    return undefined;
  } catch (err) {
    if (err instanceof ScheduleSpecError) return err.message;
    throw err;
  }
}

/** Slots strictly after `afterMs` up to and including `untilMs` (capped). */
export function countSlots(schedule: Schedule, afterMs: number, untilMs: number): number {
  if (schedule.intervalMs !== undefined && schedule.mode === 'fixed-rate') {
    return Math.max(0, Math.floor((untilMs - afterMs) / schedule.intervalMs));
  }
  let n = 0;
  for (let t = schedule.next(afterMs); t <= untilMs && n < MAX_MISSED_COUNT; t = schedule.next(t)) n += 1;
  return n;
}

/**
 * Where a schedule stands at `nowMs` for a timer armed for `slotMs` (which is due): the latest slot
 * due by now, how many due slots before it were overslept (enumerated up to
 * {@link MAX_MISSED_COUNT}), and the first slot after now.
 */
export function dueSlots(
  schedule: Schedule,
  slotMs: number,
  nowMs: number,
): { latest: number; overslept: number; next: number } {
  const interval = schedule.intervalMs;
  let latest = slotMs;
  let overslept = 0;
  let next = schedule.next(latest);
  if (interval !== undefined && next <= nowMs) {
    overslept = Math.floor((nowMs - latest) / interval);
    latest += overslept * interval;
    return { latest, overslept, next: latest + interval };
  }
  while (next <= nowMs && overslept < MAX_MISSED_COUNT) {
    overslept += 1;
    latest = next;
    next = schedule.next(latest);
  }
  while (next <= nowMs) next = schedule.next(next);
  return { latest, overslept, next };
}

/** The gap from `slotMs` to the slot after it (the `@every` interval), or 0 when none follows. */
export function gapAfter(schedule: Schedule, slotMs: number): number {
  const gap = schedule.intervalMs ?? schedule.next(slotMs) - slotMs;
  return Number.isFinite(gap) ? gap : 0;
}

/**
 * Parses a spec.
 * @throws ScheduleSpecError with a message that says what is wrong.
 */
export function parseSchedule(spec: string, options: ScheduleOptions = {}): Schedule {
  const mode = options.mode ?? 'fixed-rate';
  const timeZone = options.timeZone;
  if (timeZone !== undefined) checkTimeZone(timeZone);
  if (isEverySpec(spec)) {
    const parsed = parseEvery(spec);
    if ('problem' in parsed) throw new ScheduleSpecError(parsed.problem);
    const originMs = (options.originMs ?? 0) + parsed.phaseMs;
    return everySchedule(spec, mode, timeZone, parsed.intervalMs, originMs);
  }
  if (mode === 'fixed-delay') {
    throw new ScheduleSpecError(
      `mode "fixed-delay" needs an "@every <duration>" spec; "${spec}" is a cron spec (use mode "fixed-rate")`,
    );
  }
  const normalized = normalizeCron(spec);
  if ('problem' in normalized) throw new ScheduleSpecError(normalized.problem);
  return cronSchedule(spec, normalized.fields, timeZone);
}

function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new ScheduleSpecError(
      `time zone "${timeZone}" is not an IANA zone name (e.g. "Europe/Berlin", "UTC")`,
    );
  }
}

function everySchedule(
  spec: string,
  mode: ScheduleMode,
  timeZone: string | undefined,
  intervalMs: number,
  originMs: number,
): Schedule {
  const grid = (after: number): number => gridNext(after, intervalMs, originMs);
  const next = mode === 'fixed-delay' ? (after: number): number => after + intervalMs : grid;
  return Object.freeze({
    spec,
    kind: 'every' as const,
    mode,
    timeZone,
    intervalMs,
    next,
    first: grid,
    nextSlots: (fromMs: number, n: number) => enumerate(next, fromMs, n),
    previous: (beforeMs: number) => gridPrevious(beforeMs, intervalMs, originMs),
  });
}

function cronSchedule(spec: string, fields: string, timeZone: string | undefined): Schedule {
  let cron: Cron;
  try {
    cron = new Cron(fields, {
      paused: true,
      timezone: timeZone,
      mode: '6-part',
      // crontab(5): when both day fields are restricted, either may match.
      domAndDow: false,
      // Vixie cron: a job whose second, minute and hour have no wildcard or step is "fixed time":
      // it runs once when its time repeats (fall back) and right after the jump when skipped.
      fixedTimeRule: 'no-wildcard',
    });
  } catch (err) {
    throw new ScheduleSpecError(
      `cron spec "${spec}": ${(err as Error).message.replace(/^CronPattern: /, '')}`,
    );
  }
  // The interval cache: if next(a) = r then next(a') = r for every a <= a' < r. Watchers that share
  // a schedule object (same spec and zone) then pay for one evaluation per slot, not one each. Two
  // entries: a slot's turn asks for the next slot and for the one after it (the gap between them).
  let recent = { from: Number.NaN, next: Number.NaN };
  let older = { from: Number.NaN, next: Number.NaN };
  const next = (afterMs: number): number => {
    if (afterMs >= recent.from && afterMs < recent.next) return recent.next;
    if (afterMs >= older.from && afterMs < older.next) return older.next;
    const d = cron.nextRun(new Date(afterMs));
    const r = d === null ? Number.POSITIVE_INFINITY : d.getTime();
    older = recent;
    recent = { from: afterMs, next: r };
    return r;
  };
  if (next(Date.now()) === Number.POSITIVE_INFINITY) {
    throw new ScheduleSpecError(`cron spec "${spec}" never fires (no date matches it)`);
  }
  return Object.freeze({
    spec,
    kind: 'cron' as const,
    mode: 'fixed-rate' as const,
    timeZone,
    intervalMs: undefined,
    next,
    first: next,
    nextSlots: (fromMs: number, n: number) => enumerate(next, fromMs, n),
    previous: (beforeMs: number) => {
      // croner counts a run earlier in the same second as before the reference; the check below
      // keeps the answer strictly before.
      const d = cron.previousRuns(1, new Date(beforeMs))[0];
      if (d === undefined) return undefined;
      return d.getTime() < beforeMs ? d.getTime() : undefined;
    },
  });
}

function enumerate(next: (after: number) => number, fromMs: number, n: number): number[] {
  const out: number[] = [];
  let t = fromMs;
  for (let i = 0; i < n; i++) {
    t = next(t);
    if (!Number.isFinite(t)) break;
    out.push(t);
  }
  return out;
}
