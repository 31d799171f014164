/**
 * Waits for a dependency to answer at start-up: retries with a growing pause, logs every failed try,
 * and gives up at the deadline with one line naming the server and the last cause.
 */
import type { Logger } from 'pino';
import { sleep } from '../clock/clock.js';

export interface WaitReadyOptions {
  /** What is waited for, as it appears in messages: `mysql 127.0.0.1:3306`. */
  readonly target: string;
  /** One try; rejects when the dependency does not answer. */
  readonly attempt: (remainingMs: number) => Promise<void>;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Aborts the wait (a signal during start-up). */
  readonly signal?: AbortSignal;
}

/** Thrown when the deadline passes; the message is `target: cause`. */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

/** Short, secret-free description of a connection error: `connect ECONNREFUSED`. */
export function describeCause(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeCause(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const syscall = (err as { syscall?: unknown }).syscall;
    if (typeof syscall === 'string' && typeof code === 'string') return `${syscall} ${code}`;
    return err.message.split('\n')[0] ?? String(err);
  }
  return String(err);
}

/** Resolves once `attempt` succeeds. @throws NotReadyError at the deadline or on abort. */
export async function waitReady(o: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let pauseMs = 200;
  for (let tries = 1; ; tries++) {
    const remainingMs = deadline - Date.now();
    try {
      await o.attempt(Math.max(remainingMs, 1));
      if (tries > 1)
        o.logger.info({ event: 'dependency.ready', target: o.target, tries }, `${o.target} is up`);
      return;
    } catch (err) {
      const cause = describeCause(err);
      const left = deadline - Date.now();
      if (left <= 0 || o.signal?.aborted) throw new NotReadyError(`${o.target}: ${cause}`, { cause: err });
      o.logger.warn(
        {
          event: 'dependency.retry',
          target: o.target,
          try: tries,
          cause,
          retryInMs: Math.min(pauseMs, left),
        },
        `${o.target} not reachable (${cause}), retrying`,
      );
      await sleep(Math.min(pauseMs, left), o.signal);
      pauseMs = Math.min(pauseMs * 2, 2000);
    }
  }
}

/**
 * Undefined when `p` resolves within `timeoutMs`; otherwise why not: its error's message, or
 * `timeout` (a health probe that must answer quickly, whatever the dependency does).
 */
export async function answerWithin(p: Promise<unknown>, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const settled = p.then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
