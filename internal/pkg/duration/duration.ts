/**
 * Durations as operators write them: `500ms`, `30s`, `3m`, `1h30m`, `1d`, `2w`.
 *
 * Go's `time.ParseDuration` has no day unit, which is why the Go original's `@every 1d` never ran.
 * Here `d` (24h) and `w` (7d) are valid, units may be combined in any order of size, and a bare `0`
 * means zero.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Thrown by {@link parseDuration} with a message that says what is wrong. */
export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError';
}

/**
 * Parses a duration string into whole milliseconds.
 * @throws DurationSyntaxError when the text is not a duration (the message names the problem).
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new DurationSyntaxError('empty duration');
  if (s === '0') return 0;
  if (s.startsWith('-')) throw new DurationSyntaxError(`negative duration "${text}"`);
  let ms = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) {
      throw new DurationSyntaxError(
        `"${text}" is not a duration (use a number and a unit: ms, s, m, h, d, w; e.g. 30s, 1h30m, 1d)`,
      );
    }
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  const whole = Math.round(ms);
  if (!Number.isSafeInteger(whole)) throw new DurationSyntaxError(`duration "${text}" is too large`);
  return whole;
}

/** Formats milliseconds as the shortest exact duration string (`90000` -> `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = ms;
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit] as number;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
