/**
 * `@every <duration>` schedules. The Go original counted from process start, so each replica had its
 * own phase and a restart moved every slot; here fixed-rate slots lie on a grid anchored at an origin
 * (the Unix epoch unless given): slot k is `origin + k * interval`, the same on every instance.
 * A phase, written as Temporal writes it (`@every 1d/3h`), shifts the grid: slot k is
 * `origin + phase + k * interval`, so daily jobs can run at a chosen hour of the UTC day.
 */
import { parseDuration, DurationSyntaxError } from '../../pkg/duration/duration.js';

const EVERY = /^@every\s+(\S.*)$/i;

/** True when the spec is an `@every` spec (valid or not). */
export function isEverySpec(spec: string): boolean {
  return /^@every(\s|$)/i.test(spec.trim());
}

/** An `@every` spec's interval and phase (the phase is 0 when the spec has none). */
export interface EverySpec {
  readonly intervalMs: number;
  readonly phaseMs: number;
}

const EXAMPLES = 'e.g. "@every 30s", "@every 1h30m", "@every 1d", "@every 1d/3h"';

/**
 * Parses an `@every <interval>[/<phase>]` spec into milliseconds, or returns a problem message.
 * The phase must be at least 0 and less than the interval.
 */
export function parseEvery(spec: string): EverySpec | { problem: string } {
  const m = EVERY.exec(spec.trim());
  if (!m) return { problem: `"@every" needs a duration, ${EXAMPLES}` };
  const text = m[1] as string;
  const parts = text.split('/');
  if (parts.length > 2)
    return { problem: `"@every ${text}": write one interval and at most one phase, ${EXAMPLES}` };
  const [intervalText, phaseText] = parts as [string, string | undefined];
  try {
    const intervalMs = parseDuration(intervalText);
    if (intervalMs <= 0) return { problem: `"@every ${text}": the interval must be above 0` };
    if (phaseText === undefined) return { intervalMs, phaseMs: 0 };
    const phaseMs = parsePhase(phaseText);
    if (phaseMs >= intervalMs) {
      return {
        problem: `"@every ${text}": the phase ${phaseText.trim()} must be less than the interval ${intervalText.trim()}`,
      };
    }
    return { intervalMs, phaseMs };
  } catch (err) {
    if (err instanceof DurationSyntaxError) return { problem: `"@every ${text}": ${err.message}` };
    throw err;
  }
}

function parsePhase(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    if (err instanceof DurationSyntaxError) throw new DurationSyntaxError(`phase: ${err.message}`);
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
