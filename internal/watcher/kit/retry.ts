/**
 * Lock-wait retry: a batch that lost a deadlock or a lock wait to the apiserver's own writes was
 * rolled back whole by the server, so running it again is safe.
 */
import type { Logger } from 'pino';

/** MariaDB/MySQL errors after which the whole transaction was rolled back and may simply be retried. */
const RETRYABLE = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);
const ATTEMPTS = 3;

function errno(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}

/** Runs `fn`, again (up to three attempts in all) after a deadlock or lock-wait timeout. */
export async function withLockRetry<T>(fn: () => Promise<T>, logger: Logger): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = errno(err);
      if (code === undefined || !RETRYABLE.has(code) || attempt >= ATTEMPTS) throw err;
      logger.warn({ errno: code, attempt }, 'batch lost a lock conflict; retrying it');
    }
  }
}
