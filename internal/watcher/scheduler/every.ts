/**
 * `@every <duration>` schedules. The Go original counted from process start, so each replica had its
 * own phase and a restart moved every slot; here fixed-rate slots lie on a grid anchored at an origin
 * (the Unix epoch unless given): slot k is `origin + k * interval`, the same on every instance.
 */
import { parseDuration, DurationSyntaxError } from '../../pkg/duration/duration.js';

const EVERY = /^@every\s+(\S.*)$/i;

/** True when the spec is an `@every` spec (valid or not). */
export function isEverySpec(spec: string): boolean {
  return /^@every(\s|$)/i.test(spec.trim());
}

/** Parses the duration of an `@every` spec into milliseconds, or returns a problem message. */
export function parseEvery(spec: string): { intervalMs: number } | { problem: string } {
  const m = EVERY.exec(spec.trim());
  if (!m) return { problem: '"@every" needs a duration, e.g. "@every 30s", "@every 1h30m", "@every 1d"' };
  try {
    const intervalMs = parseDuration(m[1] as string);
    if (intervalMs <= 0) return { problem: `"@every ${m[1]}": the interval must be above 0` };
    return { intervalMs };
  } catch (err) {
    if (err instanceof DurationSyntaxError) return { problem: err.message };
    throw err;
  }
}

/** The first grid slot strictly after `afterMs`. */
export function gridNext(afterMs: number, intervalMs: number, originMs = 0): number {
  const k = Math.floor((afterMs - originMs) / intervalMs) + 1;
  return originMs + k * intervalMs;
}

/** The last grid slot strictly before `beforeMs`. */
export function gridPrevious(beforeMs: number, intervalMs: number, originMs = 0): number {
  const k = Math.ceil((beforeMs - originMs) / intervalMs) - 1;
  return originMs + k * intervalMs;
}
