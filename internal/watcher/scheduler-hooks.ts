/** Several observers of the scheduler as one set of hooks (metrics, the failure webhook). */
import type { SchedulerHooks } from './scheduler/types.js';

/**
 * Hooks that call each of `all` in order. A hook none of them has stays absent, so the scheduler
 * keeps skipping the work of building its argument.
 */
export function combineHooks(...all: readonly SchedulerHooks[]): SchedulerHooks {
  if (all.length === 1 && all[0] !== undefined) return all[0];
  const out: Record<string, (...args: never[]) => void> = {};
  const names = new Set(all.flatMap((h) => Object.keys(h))) as Set<keyof SchedulerHooks>;
  for (const name of names) {
    const fns = all.flatMap((h) => (h[name] === undefined ? [] : [h[name].bind(h)])) as Array<
      (...args: never[]) => void
    >;
    // Each observer hears the event even when one before it throws; the first error goes on to the
    // scheduler, which logs it.
    out[name] = (...args) => {
      let failure: { err: unknown } | undefined;
      for (const fn of fns) {
        try {
          fn(...args);
        } catch (err) {
          failure ??= { err };
        }
      }
      if (failure !== undefined) throw failure.err;
    };
  }
  return out;
}
