/**
 * The status recipe: one replica's share of a status watcher. It scans the table for to-do rows from
 * a moving cursor, claims a batch in one backend call (skipping rows others hold or that wait for a
 * retry), runs up to `concurrency` handlers, and moves the finished rows to their final status in one
 * guarded UPDATE per batch. Claims are extended while rows are in hand and given back at shutdown.
 * See README, "Writing a status watcher", for the guarantees.
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { RowClaims, RowId } from '../lock/row-claims.js';
import { LazyAbort } from '../../pkg/abort/lazy-abort.js';
import { HandlerAbortError } from '../errors.js';
import { RowContext } from './status-context.js';
import { StatusSql } from './status-sql.js';
import { StatusSettler, type StatusJob, type StatusParts } from './status-settle.js';
import { StatusScan } from './status-scan.js';
import type { RowHandler, StatusRow, StatusSettings, StatusTable } from './status-spec.js';
import { StatusCounts, type StatusHooks, type StatusTotals } from './status-counts.js';

/** Options of a {@link StatusWorker}. */
export interface StatusWorkerOptions<O> {
  readonly watcher: string;
  readonly table: StatusTable;
  readonly handle: RowHandler<O>;
  readonly options: Readonly<O>;
  readonly settings: StatusSettings;
  readonly db: Pool;
  readonly claims: RowClaims;
  /** Carries `watcher` and `instance`. */
  readonly logger: Logger;
  readonly instanceId: string;
  readonly hooks?: StatusHooks;
}

/** One replica's processing of one status watcher. */
export class StatusWorker<O = unknown> {
  readonly #o: StatusWorkerOptions<O>;
  readonly #sql: StatusSql;
  readonly #settler: StatusSettler;
  readonly #counts: StatusCounts;
  /** Every row in hand (queued, running, or handled and not yet settled), by id. */
  readonly #held = new Map<RowId, StatusJob>();
  #queue: StatusJob[] = [];
  #running = 0;
  readonly #scan: StatusScan;
  #idleUntilMs = 0;
  /** A pass claimed nothing at least once (`drain()` may end). */
  #wentIdle = false;
  #pumping = false;
  /** The latest pump (stop() waits for it). */
  #pumped: Promise<void> = Promise.resolve();
  #stopping = false;
  #once = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #sampleTimer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  #runningDone: (() => void) | undefined;

  constructor(o: StatusWorkerOptions<O>) {
    this.#o = o;
    this.#sql = new StatusSql(o.db, o.table);
    this.#counts = new StatusCounts(o.watcher, o.claims, o.hooks, o.logger);
    const parts: StatusParts = {
      sql: this.#sql,
      claims: o.claims,
      table: o.table,
      settings: o.settings,
      logger: o.logger,
      counts: this.#counts,
      held: this.#held,
    };
    this.#settler = new StatusSettler({ ...parts, wake: () => this.#wake() });
    this.#scan = new StatusScan({ ...parts, enqueue: (id, row, attempt) => this.#enqueue(id, row, attempt) });
  }

  /** Totals since start (this replica). */
  get totals(): StatusTotals {
    return this.#counts.totals;
  }

  /** Starts polling and processing; returns at once. */
  start(): void {
    const keepEvery = Math.max(50, Math.floor(this.#o.settings.leaseMs / 3));
    this.#leaseTimer = setInterval(() => void this.#keepClaims(), keepEvery);
    this.#leaseTimer.unref();
    // The waiting rows are sampled each poll interval, busy or not (one replica counts them).
    const { pollIntervalMs } = this.#o.settings;
    const sample = (): void => this.#counts.sample(pollIntervalMs, this.#sql);
    this.#sampleTimer = setInterval(sample, pollIntervalMs);
    this.#sampleTimer.unref();
    sample();
    this.#wake();
  }

  /**
   * Processes what can be claimed now, then stops (`iam-watcher run <watcher>`): resolves once a
   * pass over the table claims nothing and every claimed row is settled.
   */
  async drain(): Promise<StatusTotals> {
    this.#once = true;
    const done = new Promise<void>((resolve) => (this.#drained = resolve));
    this.start();
    await done;
    await this.stop(0);
    return this.totals;
  }

  /**
   * Stops claiming, aborts the handlers' signals, waits for them up to `timeoutMs`, settles what
   * they finished and gives every other claim back at once. @returns handlers still running.
   */
  async stop(timeoutMs: number): Promise<{ abandoned: number }> {
    this.#stopping = true;
    clearTimeout(this.#pollTimer);
    clearInterval(this.#sampleTimer);
    // A claim under way ends first, so that its rows are given back too.
    await Promise.race([this.#pumped, new Promise((r) => setTimeout(r, Math.max(1000, timeoutMs)).unref())]);
    const queued = this.#queue.splice(0);
    for (const j of this.#running > 0 ? this.#held.values() : []) {
      if (j.state === 'running') j.ctl.abort(new HandlerAbortError('shutdown', 'the daemon is stopping'));
    }
    await this.#giveBack(queued);
    if (this.#running > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#runningDone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await this.#settler.flush();
    const abandoned = this.#running;
    // Handlers still running past the timeout are abandoned: their rows go back now, not after a lease.
    await this.#giveBack([...this.#held.values()]);
    clearInterval(this.#leaseTimer);
    await this.#counts.write(undefined);
    return { abandoned };
  }

  async #giveBack(jobs: readonly StatusJob[]): Promise<void> {
    if (jobs.length === 0) return;
    for (const j of jobs) this.#held.delete(j.id);
    try {
      await this.#o.claims.release(jobs.map((j) => j.id));
    } catch (err) {
      this.#o.logger.warn(
        { event: 'status.release-failed', rows: jobs.length, err },
        'could not give claims back; they expire after the lease',
      );
    }
  }

  /** Something changed (a handler ended, a batch settled, the poll timer): fill the queue again. */
  #wake(): void {
    this.#startHandlers();
    if (this.#once && this.#held.size === 0 && this.#wentIdle) this.#drained?.();
    if (!this.#pumping) this.#pumped = this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping || this.#stopping) return;
    this.#pumping = true;
    try {
      while (this.#wantMore() && Date.now() >= this.#idleUntilMs) {
        await this.#scan.dueEach(this.#o.settings.pollIntervalMs);
        const end = await this.#scan.next();
        this.#startHandlers();
        if (end && this.#scan.passEnded() === 'idle') {
          this.#idle();
          break;
        }
      }
    } catch (err) {
      this.#o.logger.warn(
        { event: 'status.poll-failed', err },
        'could not read or claim rows; trying again after the poll interval',
      );
      this.#idle();
    } finally {
      this.#pumping = false;
    }
  }

  #wantMore(): boolean {
    const s = this.#o.settings;
    // Claim ahead while half a claim's worth is still queued: handlers never wait for a round trip.
    const low = Math.max(s.concurrency, this.#scan.claimSize() / 2);
    return !this.#stopping && this.#queue.length < low && this.#settler.backlog < s.batchSize * 2;
  }

  /** A pass claimed nothing: wait one poll interval (the next pass starts from the first key). */
  #idle(): void {
    const ms = this.#o.settings.pollIntervalMs;
    this.#idleUntilMs = Date.now() + ms;
    this.#wentIdle = true;
    this.#scan.restart();
    if (this.#once && this.#held.size === 0) {
      this.#drained?.();
      return;
    }
    clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => {
      // A timer may fire a millisecond before Date.now() reaches the mark: the timer is the mark.
      this.#idleUntilMs = 0;
      this.#wake();
    }, ms);
  }

  #enqueue(id: RowId, row: StatusRow, attempt: number): void {
    const job: StatusJob = {
      id,
      key: row[this.#o.table.key],
      row,
      attempt,
      ctl: new LazyAbort(),
      state: 'queued',
    };
    this.#held.set(id, job);
    this.#queue.push(job);
  }

  #startHandlers(): void {
    while (!this.#stopping && this.#running < this.#o.settings.concurrency) {
      const job = this.#queue.shift();
      if (job === undefined) return;
      this.#running++;
      job.state = 'running';
      void this.#runJob(job);
    }
  }

  async #runJob(job: StatusJob): Promise<void> {
    const { settings } = this.#o;
    const started = performance.now();
    const timer =
      settings.timeoutMs > 0
        ? setTimeout(
            () =>
              job.ctl.abort(
                new HandlerAbortError('timeout', `the handler took longer than ${settings.timeoutMs} ms`),
              ),
            settings.timeoutMs,
          )
        : undefined;
    let error: unknown;
    let ok = false;
    try {
      await this.#o.handle(job.row, new RowContext(this.#o, job.attempt, job.key, job.ctl));
      ok = true;
    } catch (err) {
      error = err;
    } finally {
      clearTimeout(timer);
    }
    this.#counts.handler(performance.now() - started, ok);
    this.#running--;
    if (ok) this.#settler.succeeded(job);
    else await this.#settler.failed(job, error, this.#stopping);
    if (this.#running === 0) this.#runningDone?.();
    this.#wake();
  }

  /** Extends every claim in hand; a row another replica holds now is dropped (its handler aborted). */
  async #keepClaims(): Promise<void> {
    const ids = [...this.#held.keys()];
    if (ids.length === 0) return;
    let held: Set<RowId>;
    try {
      held = await this.#o.claims.extend(ids, this.#o.settings.leaseMs);
    } catch (err) {
      this.#o.logger.warn(
        { event: 'status.extend-failed', rows: ids.length, err },
        'could not extend row claims',
      );
      return;
    }
    for (const id of ids) {
      const job = this.#held.get(id);
      if (job === undefined || held.has(id)) continue;
      this.#held.delete(id);
      job.lost = true;
      this.#queue = this.#queue.filter((j) => j !== job);
      job.ctl.abort(new HandlerAbortError('lost', `another replica holds row ${id} now`));
      this.#o.logger.warn({ event: 'status.claim-lost', key: job.key }, 'row claim lost to another replica');
    }
  }
}
