/**
 * A timer for a wall-clock instant, however far away. Node's `setTimeout` fires after 1 ms for
 * delays above 2^31-1 ms (24.8 days), so a `@monthly` or `@every 30d` slot would fire at once; and a
 * single long timer ignores wall-clock jumps (NTP steps, a resumed VM). This chains timers of at most
 * {@link MAX_TIMER_CHUNK_MS} and re-reads the wall clock at each link.
 */
import type { Clock, TimerHandle } from '../../pkg/clock/clock.js';

/** Longest single link of the chain (far below 2^31-1 ms): the wall clock is re-read this often. */
export const MAX_TIMER_CHUNK_MS = 60_000;

/** A cancellable wall-clock timer. */
export interface LongTimer {
  /** The instant it fires at (ms since the epoch). */
  readonly atMs: number;
  cancel(): void;
}

interface TimerGroup {
  readonly entries: Set<GroupEntry>;
  readonly timer: LongTimer;
}

/** One caller's place in a shared timer. */
class GroupEntry implements LongTimer {
  constructor(
    readonly atMs: number,
    readonly fn: () => void,
    private readonly group: TimerGroup,
    private readonly shared: Map<number, TimerGroup>,
  ) {}

  cancel(): void {
    const { entries, timer } = this.group;
    if (!entries.delete(this) || entries.size > 0) return;
    timer.cancel();
    if (this.shared.get(this.atMs) === this.group) this.shared.delete(this.atMs);
  }
}

/** Shared timers per clock and instant. */
const groups = new WeakMap<Clock, Map<number, TimerGroup>>();

/**
 * Calls `fn` once, when the wall clock reaches `atMs` (at once if it already has).
 *
 * Callers waiting for the same instant share one timer (a thousand watchers on one spec: one timer
 * per slot, not a thousand), and their callbacks run together in registration order, before the
 * promise work any of them starts; a callback that throws does not stop the others (the error is
 * rethrown from a microtask, as an uncaught timer error would be).
 */
export function setTimerAt(clock: Clock, atMs: number, fn: () => void): LongTimer {
  let byAt = groups.get(clock);
  if (byAt === undefined) {
    byAt = new Map();
    groups.set(clock, byAt);
  }
  const shared = byAt;
  let group = shared.get(atMs);
  if (group === undefined) {
    const entries = new Set<GroupEntry>();
    const timer = singleTimerAt(clock, atMs, () => {
      shared.delete(atMs);
      for (const e of entries) {
        try {
          e.fn();
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    });
    group = { entries, timer };
    shared.set(atMs, group);
  }
  const entry = new GroupEntry(atMs, fn, group, shared);
  group.entries.add(entry);
  return entry;
}

/** One chain of timers of at most {@link MAX_TIMER_CHUNK_MS}, re-reading the clock at each link. */
function singleTimerAt(clock: Clock, atMs: number, fn: () => void): LongTimer {
  let handle: TimerHandle = undefined;
  let cancelled = false;
  const arm = (): void => {
    const remaining = atMs - clock.now();
    if (remaining <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = clock.setTimeout(arm, Math.min(remaining, MAX_TIMER_CHUNK_MS));
  };
  // The first link runs from a timer too, so `fn` never runs inside the caller's stack.
  handle = clock.setTimeout(
    () => {
      if (!cancelled) arm();
    },
    Math.max(0, Math.min(atMs - clock.now(), MAX_TIMER_CHUNK_MS)),
  );
  return {
    atMs,
    cancel: () => {
      cancelled = true;
      if (handle !== undefined) clock.clearTimeout(handle);
      handle = undefined;
    },
  };
}
