/** Retry delays of status watchers: exponential backoff with jitter. */

/**
 * The delay before try `attempt + 1` after try `attempt` failed: `backoffMs * 2^(attempt-1)`, at most
 * `maxMs`, then "equal jitter" (a random point in its upper half), so rows that failed together do
 * not come back together while the delay still grows with each attempt.
 */
export function retryDelayMs(
  attempt: number,
  backoffMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const exp = Math.min(maxMs, backoffMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * How long a row's attempt record is kept: past the longest delay it may still wait, with room, so a
 * count never vanishes before the retry it schedules; yet bounded, so Redis keeps nothing for ever.
 */
export function retryKeepMs(maxMs: number): number {
  return Math.max(maxMs * 3, 3_600_000);
}
