/**
 * Time as the daemon sees it: a wall clock and one-shot timers. The system clock is the default;
 * tests pass a manual clock (`test/helpers/manual-clock.ts`) and move time by hand.
 */

/** A handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Wall clock plus timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock). */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process's clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Waits `ms` on `clock`; ends early (resolves, never rejects) when `signal` aborts, at once if it
 * has already.
 */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      clock.clearTimeout(handle);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const handle = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
