/** How the status page writes times and durations: UTC to the second, and relative to the page's time. */

/** `2026-12-03 15:50:01Z`. */
export function utc(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** `15:50:01` (the time of day, UTC), for tables where the date is clear from the column. */
export function clockTime(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return new Date(ms).toISOString().slice(11, 19);
}

/** A span as people read it: `812 ms`, `4.2 s`, `3 m 4 s`, `10 m`, `2 h 5 m`, `3 d 4 h`. */
export function span(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1_000).toFixed(1).replace(/\.0$/, '')} s`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s} s`;
  const two = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
  const m = Math.floor(s / 60);
  if (m < 60) return two(m, 'm', s % 60, 's');
  const h = Math.floor(m / 60);
  if (h < 24) return two(h, 'h', m % 60, 'm');
  return two(Math.floor(h / 24), 'd', h % 24, 'h');
}

/** The time of day when `ms` falls on the same UTC day as `nowMs`, else the date too. */
export function shortTime(ms: number, nowMs: number): string {
  return utc(ms).slice(0, 10) === utc(nowMs).slice(0, 10) ? clockTime(ms) : utc(ms);
}

/** `in 4.0 s` / `12 s ago` / `now`, from `nowMs`. */
export function relative(ms: number, nowMs: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = ms - nowMs;
  if (Math.abs(d) < 500) return 'now';
  return d > 0 ? `in ${span(d)}` : `${span(-d)} ago`;
}
