/**
 * How the status recipe ends a row: handled rows are moved to their final status in one guarded
 * UPDATE per batch, only those whose claim this replica still holds (checked just before, and
 * kept as the rows' tombstones); failed attempts are scheduled again after a backoff, or, after the last one, moved to the
 * failed value. A batch whose statements fail stays in hand (claims extended) and is tried again.
 */
import type { Logger } from 'pino';
import type { RowClaims, RowId } from '../lock/row-claims.js';
import type { LazyAbort } from '../../pkg/abort/lazy-abort.js';
import { HandlerAbortError } from '../errors.js';
import { retryDelayMs, retryKeepMs } from './status-backoff.js';
import type { StatusCounts, StatusOutcome } from './status-counts.js';
import type { StatusSql } from './status-sql.js';
import type { StatusRow, StatusSettings, StatusTable } from './status-spec.js';

/** A claimed row in hand. */
export interface StatusJob {
  readonly id: RowId;
  /** The key column's value as read (for SQL). */
  readonly key: unknown;
  readonly row: StatusRow;
  readonly attempt: number;
  /** The handler's signal, made only if the handler asks for it. */
  readonly ctl: LazyAbort;
  state: 'queued' | 'running' | 'handled';
  /** Another replica holds the row now: settle nothing for it. */
  lost?: boolean;
}

/** The parts of one worker that its scan and its settler share. */
export interface StatusParts {
  readonly sql: StatusSql;
  readonly claims: RowClaims;
  readonly table: StatusTable;
  readonly settings: StatusSettings;
  readonly logger: Logger;
  readonly counts: StatusCounts;
  /** The worker's rows in hand; settled rows leave it, claimed ones join it. */
  readonly held: Map<RowId, StatusJob>;
}

/** What the settler works with. */
export interface SettlerDeps extends StatusParts {
  /** Tells the worker that rows left its hands. */
  wake(): void;
}

/** Most rows of one final UPDATE. */
const MAX_SETTLE = 1000;
/** After a failed settle, the next try waits this long (the claims are extended meanwhile). */
const SETTLE_RETRY_MS = 1000;

/** Settles the rows of one worker, one batch at a time. */
export class StatusSettler {
  #ok: StatusJob[] = [];
  #bad: StatusJob[] = [];
  #running: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: SettlerDeps) {}

  /** Rows handled and not yet settled. */
  get backlog(): number {
    return this.#ok.length + this.#bad.length;
  }

  /** The handler succeeded: the row goes to the done value with the next batch. */
  succeeded(job: StatusJob): void {
    job.state = 'handled';
    this.#ok.push(job);
    this.#schedule();
  }

  /** The handler threw (or was aborted): retry later, fail for good, or give the claim back. */
  async failed(job: StatusJob, err: unknown, stopping: boolean): Promise<void> {
    const { held, claims, settings, logger, table, counts } = this.d;
    if (job.lost) return;
    const reason: unknown = job.ctl.aborted ? job.ctl.reason : undefined;
    const why = reason instanceof HandlerAbortError ? reason.why : undefined;
    if (why === 'shutdown' || (stopping && why === undefined)) {
      held.delete(job.id);
      await claims.release([job.id]).catch(() => undefined);
      return;
    }
    const keepMs = retryKeepMs(settings.backoffMaxMs);
    if (job.attempt >= settings.maxAttempts) {
      logger.error(
        { event: 'status.row-failed', key: job.key, attempt: job.attempt, err },
        `row failed ${job.attempt} time(s): ${table.failed === undefined ? `left ${table.todo.join('/')}` : `set ${table.failed}`}`,
      );
      if (table.failed !== undefined) {
        job.state = 'handled';
        this.#bad.push(job);
        this.#schedule();
        return;
      }
      // Rested for keepMs, then tried again from attempt 1: no row stays untried for ever.
      held.delete(job.id);
      counts.add('failed', 1);
      await this.#retryLater(job, keepMs, keepMs);
      return;
    }
    const delayMs = retryDelayMs(job.attempt, settings.backoffMs, settings.backoffMaxMs);
    logger.warn(
      { event: 'status.row-retry', key: job.key, attempt: job.attempt, retryInMs: delayMs, err },
      `row failed (attempt ${job.attempt} of ${settings.maxAttempts}); retrying after the backoff`,
    );
    held.delete(job.id);
    counts.add('retried', 1);
    await this.#retryLater(job, delayMs, keepMs);
  }

  async #retryLater(job: StatusJob, delayMs: number, keepMs: number): Promise<void> {
    try {
      await this.d.claims.retryLater(job.id, job.attempt, delayMs, keepMs);
    } catch (err) {
      // The claim then expires after its lease and the row comes back sooner, with the same count.
      this.d.logger.warn(
        { event: 'status.retry-record-failed', key: job.key, err },
        'could not record the retry',
      );
    }
  }

  /** Settles everything handled so far (at shutdown): one more round, errors logged. */
  async flush(): Promise<void> {
    clearTimeout(this.#retryTimer);
    await this.#running;
    if (this.backlog > 0) await this.#round().catch(() => undefined);
  }

  #schedule(): void {
    if (this.#running !== undefined) return;
    // One turn later: handlers that end together settle together.
    this.#running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#loop())
      .finally(() => {
        this.#running = undefined;
        this.d.wake();
      });
  }

  async #loop(): Promise<void> {
    while (this.backlog > 0) {
      try {
        await this.#round();
      } catch (err) {
        this.d.logger.warn(
          { event: 'status.settle-failed', rows: this.backlog, err },
          'could not write the final status; keeping the rows and trying again',
        );
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => this.#schedule(), SETTLE_RETRY_MS);
        return;
      }
    }
  }

  async #round(): Promise<void> {
    const ok = this.#ok.splice(0, MAX_SETTLE);
    try {
      await this.#settle(ok, this.d.table.done, 'done');
    } catch (err) {
      this.#ok.unshift(...ok);
      throw err;
    }
    const bad = this.#bad.splice(0, MAX_SETTLE);
    try {
      await this.#settle(bad, this.d.table.failed ?? '', 'failed');
    } catch (err) {
      this.#bad.unshift(...bad);
      throw err;
    }
  }

  /**
   * Ends the claims (each checked to be still this replica's, and kept for a lease as the row's
   * tombstone), then moves the rows in one guarded UPDATE. Should the UPDATE fail, the rows stay in
   * hand (their claims extended with the others) and are settled again.
   */
  async #settle(jobs: readonly StatusJob[], value: string, outcome: StatusOutcome): Promise<void> {
    const { claims, sql, held, settings, logger, counts } = this.d;
    const live = jobs.filter((j) => !j.lost);
    if (live.length === 0) return;
    const mine = await claims.settle(
      live.map((j) => j.id),
      settings.leaseMs,
    );
    const keys: unknown[] = [];
    const kept: StatusJob[] = [];
    for (const j of live) {
      if (mine.has(j.id)) {
        keys.push(j.key);
        kept.push(j);
      } else {
        held.delete(j.id);
        logger.warn({ event: 'status.claim-lost', key: j.key }, 'row claim lost before its final status');
      }
    }
    const moved = await sql.finish(keys, value);
    for (const j of kept) held.delete(j.id);
    // Not waited for: an entry left behind only costs another replica one look after the tombstone.
    claims
      .settled(kept.map((j) => j.id))
      .catch((err: unknown) =>
        logger.debug({ event: 'status.unindex-failed', err }, 'could not take settled rows out of the index'),
      );
    counts.add(outcome, moved);
    if (moved < keys.length) {
      logger.info(
        { event: 'status.already-final', rows: keys.length - moved },
        'rows were no longer to do (another writer moved them): not moved again',
      );
    }
  }
}
