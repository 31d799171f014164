/**
 * What a status watcher counts: rows claimed, done, retried and failed, handler durations, and the
 * waiting rows sampled once per poll interval. Counts go to the hooks (the daemon's metrics)
 * at once, and to the backend's cluster-wide counters (for `status`) with each sample.
 */
import type { Logger } from 'pino';
import type { RowClaims } from '../lock/row-claims.js';
import type { StatusSql } from './status-sql.js';

/** What a status watcher's rows came to. */
export type StatusOutcome = 'claimed' | 'done' | 'retried' | 'failed';

/** Totals of one replica since it started. */
export type StatusTotals = Record<StatusOutcome, number>;

/** Observers (the metrics module subscribes). A hook that throws is logged and ignored. */
export interface StatusHooks {
  onRows?(watcher: string, outcome: StatusOutcome, n: number): void;
  onHandler?(watcher: string, seconds: number, ok: boolean): void;
  /** `oldestAgeS` is null when the watcher names no `since` column. */
  onSample?(watcher: string, waiting: number, oldestAgeS: number | null): void;
}

/** The counts of one status watcher on this replica. */
export class StatusCounts {
  readonly totals: StatusTotals = { claimed: 0, done: 0, retried: 0, failed: 0 };
  #unwritten: Record<string, number> = {};
  #sampling = false;

  constructor(
    private readonly watcher: string,
    private readonly claims: RowClaims,
    private readonly hooks: StatusHooks | undefined,
    private readonly logger: Logger,
  ) {}

  #hook(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.warn({ event: 'status.hook-failed', err }, 'a status hook threw');
    }
  }

  add(outcome: StatusOutcome, n: number): void {
    if (n === 0) return;
    this.totals[outcome] += n;
    this.#unwritten[outcome] = (this.#unwritten[outcome] ?? 0) + n;
    this.#hook(() => this.hooks?.onRows?.(this.watcher, outcome, n));
  }

  handler(ms: number, ok: boolean): void {
    this.#hook(() => this.hooks?.onHandler?.(this.watcher, ms / 1000, ok));
  }

  /**
   * Samples the waiting rows in the background (called once per poll interval, `intervalMs`; a
   * sample still under way is not doubled). One replica of the cluster per interval counts them in
   * the table; the others take its sample from the backend, so that a large backlog is counted once
   * per interval, not once per replica.
   */
  sample(intervalMs: number, sql: StatusSql): void {
    if (this.#sampling) return;
    this.#sampling = true;
    const now = Date.now();
    void (async () => {
      try {
        if (await this.claims.sampleTurn(intervalMs)) {
          const s = await sql.sample();
          this.#hook(() => this.hooks?.onSample?.(this.watcher, s.waiting, s.oldestAgeS));
          await this.write({
            waiting: String(s.waiting),
            oldestAgeS: s.oldestAgeS === null ? '' : s.oldestAgeS.toFixed(3),
            sampledAt: new Date(now).toISOString(),
          });
          return;
        }
        const st = await this.claims.stats();
        if (st.waiting === undefined || st.waiting === '') return;
        const age = st.oldestAgeS === undefined || st.oldestAgeS === '' ? null : Number(st.oldestAgeS);
        this.#hook(() => this.hooks?.onSample?.(this.watcher, Number(st.waiting), age));
      } catch (err) {
        this.logger.debug({ event: 'status.sample-failed', err }, 'could not sample the waiting rows');
      } finally {
        this.#sampling = false;
      }
    })();
  }

  /** Adds the counts not yet written to the backend's counters (and stores the sample, if any). */
  async write(sample: Readonly<Record<string, string>> | undefined): Promise<void> {
    const counts = this.#unwritten;
    this.#unwritten = {};
    try {
      await this.claims.record(counts, sample);
    } catch (err) {
      // Kept for the next write: the backend's counters lag, the metrics do not.
      for (const [k, n] of Object.entries(counts)) this.#unwritten[k] = (this.#unwritten[k] ?? 0) + n;
      this.logger.debug({ event: 'status.record-failed', err }, 'could not write the status counters');
    }
  }
}
