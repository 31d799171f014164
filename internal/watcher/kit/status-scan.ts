/**
 * Where the status recipe finds rows: passes over the table from a cursor (the first one from a
 * random key, so replicas spread out), claims of about a second of work at a time, and, once per poll
 * interval, the rows the backend's index says came due (a dead replica's expired claims, retries).
 */
import type { RowId } from '../lock/row-claims.js';
import type { StatusParts } from './status-settle.js';
import type { StatusRow } from './status-spec.js';

/** What a scan works with. */
export interface ScanDeps extends StatusParts {
  /** Hands a claimed row to the worker. */
  enqueue(id: RowId, row: StatusRow, attempt: number): void;
}

/** The cursor and pace of one worker's passes. */
export class StatusScan {
  #cursor: unknown = undefined;
  #claimedThisPass = 0;
  /** The next pass starts at a random key (replicas then work on different parts of the table). */
  #pickOffset = true;
  /** This pass started at a random key: at the table's end it goes on from the first key. */
  #offsetPass = false;
  /** Rows handled per second, smoothed: how many rows one claim takes (about a second of work). */
  #rate = 0;
  #rateMark = { atMs: Date.now(), n: 0 };
  #lastDueMs = 0;

  constructor(private readonly d: ScanDeps) {}

  /** The scan reached the table's end: go on from the first key, or `idle` when the pass claimed nothing. */
  passEnded(): 'continue' | 'idle' {
    if (this.#offsetPass) {
      this.#offsetPass = false;
      this.#cursor = undefined;
      return 'continue';
    }
    if (this.#claimedThisPass === 0) return 'idle';
    this.#claimedThisPass = 0;
    return 'continue';
  }

  /** After an idle pause: the next pass starts afresh, at a random key. */
  restart(): void {
    this.#pickOffset = true;
    this.#offsetPass = false;
    this.#cursor = undefined;
    this.#claimedThisPass = 0;
  }

  /** Claims the rows that came due, unless that was done less than `intervalMs` ago. */
  async dueEach(intervalMs: number): Promise<void> {
    if (Date.now() - this.#lastDueMs >= intervalMs) await this.#due();
  }

  /**
   * Rows one claim takes: about a second of this replica's work, between `concurrency` and
   * `batch-size`. Slow handlers then hold few rows ahead (the other replicas get the rest); fast
   * ones claim whole batches.
   */
  claimSize(): number {
    const s = this.d.settings;
    const now = Date.now();
    if (now - this.#rateMark.atMs >= 500) {
      const r =
        ((this.d.counts.totals.done + this.d.counts.totals.retried - this.#rateMark.n) * 1000) /
        (now - this.#rateMark.atMs);
      this.#rate = this.#rate === 0 ? r : this.#rate * 0.5 + r * 0.5;
      this.#rateMark = { atMs: now, n: this.d.counts.totals.done + this.d.counts.totals.retried };
    }
    return Math.max(s.concurrency, Math.min(s.batchSize, Math.ceil(this.#rate)));
  }

  /** Reads and claims one batch after the cursor. @returns true when the scan reached the table's end. */
  async next(): Promise<boolean> {
    const { settings, table, claims } = this.d;
    if (this.#pickOffset) await this.#randomStart();
    const size = this.claimSize();
    const rows = await this.d.sql.scan(this.#cursor, size);
    const end = rows.length < size;
    this.#cursor = end ? undefined : rows[rows.length - 1]?.[table.key];
    const fresh = rows.filter((r) => !this.d.held.has(String(r[table.key])));
    if (settings.dryRun) {
      this.d.logger.info(
        { event: 'status.dry-run', keys: fresh.map((r) => r[table.key]) },
        `dry run: ${fresh.length} row(s) to do; claiming none`,
      );
      return true;
    }
    if (fresh.length === 0) return end;
    const got = await claims.claim(
      fresh.map((r) => String(r[table.key])),
      settings.leaseMs,
    );
    for (const row of fresh) {
      const id = String(row[table.key]);
      const attempt = got.get(id);
      if (attempt !== undefined) this.d.enqueue(id, row, attempt);
    }
    this.#claimedThisPass += got.size;
    this.d.counts.add('claimed', got.size);
    // Most of the batch is another replica's: this scan runs right behind it, and would read its rows
    // again with every batch. Go on from a random key instead. Only after a claim: a pass that claims
    // nothing never jumps, so it ends, and an idle table is seen as idle.
    if (got.size > 0 && got.size * 2 < fresh.length) this.#pickOffset = true;
    return end;
  }

  /**
   * Claims the rows that came due (a dead replica's expired claims, retries whose time came) from the
   * backend's index, once per poll interval: a busy replica finds them without scanning to them.
   */
  async #due(): Promise<void> {
    const { settings, claims, table } = this.d;
    this.#lastDueMs = Date.now();
    if (settings.dryRun) return;
    const got = await claims.due(settings.batchSize, settings.leaseMs);
    const ids = [...got.keys()].filter((id) => !this.d.held.has(id));
    if (ids.length === 0) return;
    const rows = await this.d.sql.byKeys(ids);
    const found = new Set<RowId>();
    for (const row of rows) {
      const id = String(row[table.key]);
      found.add(id);
      this.d.enqueue(id, row, got.get(id) ?? 1);
    }
    this.#claimedThisPass += rows.length;
    this.d.counts.add('claimed', rows.length);
    // Rows no longer to do (another writer moved them): nothing to handle, the claims go back.
    const gone = ids.filter((id) => !found.has(id));
    if (gone.length > 0) await claims.release(gone);
  }

  /** Starts the pass at a random key of the to-do rows (integer keys only). */
  async #randomStart(): Promise<void> {
    this.#pickOffset = false;
    const r = await this.d.sql.keyRange();
    if (r === undefined || r.max <= r.min) return;
    this.#cursor = r.min + Math.floor(Math.random() * (r.max - r.min + 1)) - 1;
    this.#offsetPass = true;
  }
}
