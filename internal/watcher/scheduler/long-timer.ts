/**
 * A timer for a wall-clock instant, however far away. Node's `setTimeout` fires after 1 ms for
 * delays above 2^31-1 ms (24.8 days), so a `@monthly` or `@every 30d` slot would fire at once; and a
 * single long timer ignores wall-clock jumps (NTP steps, a resumed VM). This chains timers of at most
 * {@link MAX_TIMER_CHUNK_MS} and re-reads the wall clock at each link.
 */
import type { Clock, TimerHandle } from './clock.js';

/** The largest delay Node's `setTimeout` honours. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Longest single link of the chain: the wall clock is re-read at least this often. */
export const MAX_TIMER_CHUNK_MS = 60_000;

/** A cancellable wall-clock timer. */
export interface LongTimer {
  /** The instant it fires at (ms since the epoch). */
  readonly atMs: number;
  cancel(): void;
}

/**
 * Calls `fn` once, when the wall clock reaches `atMs` (at once if it already has).
 * @param maxChunkMs longest single timeout; clamped to {@link MAX_TIMEOUT_MS}.
 */
export function setTimerAt(
  clock: Clock,
  atMs: number,
  fn: () => void,
  maxChunkMs: number = MAX_TIMER_CHUNK_MS,
): LongTimer {
  const chunk = Math.min(Math.max(1, maxChunkMs), MAX_TIMEOUT_MS);
  let handle: TimerHandle = undefined;
  let cancelled = false;
  const arm = (): void => {
    const remaining = atMs - clock.now();
    if (remaining <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = clock.setTimeout(arm, Math.min(remaining, chunk));
  };
  // The first link runs from a timer too, so `fn` never runs inside the caller's stack.
  handle = clock.setTimeout(
    () => {
      if (!cancelled) arm();
    },
    Math.max(0, Math.min(atMs - clock.now(), chunk)),
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
