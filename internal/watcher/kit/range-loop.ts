/**
 * Batches over a table, range by range of its key: the loop under the purge recipe.
 *
 * Why ranges wider than a batch: a batch per `batchSize` scanned rows makes a run several times
 * slower than the one-statement floor when few rows match. A range is sized to hold about
 * `batchSize` matching rows (see `nextSpan`); a batch still changes at most `batchSize` rows, and a
 * range with more is run again.
 *
 * The loop ends by its own bound, not because changed rows stop matching: the walk's ranges only move
 * forward, and a range of `w` keys is run at most `ceil(w / batchSize)` times, which is as many full
 * batches as it has rows. A batch whose rows still match afterwards (work that leaves them as they
 * were) costs those extra passes and nothing more; the run then goes on with the next range.
 */
import type { Logger } from 'pino';
import { runOnLanes, type Tally } from './batch-loop.js';
import type { Sessions } from './connections.js';
import { KeyRangeWalk, spanOf, type KeyedTable, type KeyRange } from './key-range.js';
import { withLockRetry } from './retry.js';
import type { Session } from './transaction.js';

/** What {@link forEachKeyRange} needs. */
export interface KeyRangeLoop {
  /** One range in flight on each (see `lanes.ts`); the first also walks the table. */
  readonly sessions: Sessions;
  readonly table: KeyedTable;
  /** Most rows one batch may change (and so lock). */
  readonly batchSize: number;
  /** A dry run changes nothing, so each range is read once, whole. */
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Applies one batch to the range on `session`, atomically: changes at most `limit` matching rows,
   * the lowest keys first (in a dry run `limit` is undefined: count them all). Returns the rows
   * changed. Retried after a lost deadlock, so it must be safe to run again.
   */
  readonly each: (
    session: Session,
    range: KeyRange,
    limit: number | undefined,
    batch: number,
  ) => Promise<number>;
}

/** Totals of a {@link forEachKeyRange} walk. */
export type KeyRangeTotals = Readonly<Tally>;

/** Runs `each` over the whole table, range by range; see the file comment. */
export async function forEachKeyRange(loop: KeyRangeLoop): Promise<KeyRangeTotals> {
  const walk = await KeyRangeWalk.start(loop.sessions[0].conn, loop.table, loop.batchSize);
  const limit = loop.dryRun ? undefined : loop.batchSize;
  const tally: Tally = { rows: 0, batches: 0 };
  const runRange = async (session: Session, range: KeyRange): Promise<void> => {
    const passes = limit === undefined ? 1 : Math.ceil(spanOf(range) / limit);
    let matched = 0;
    for (let pass = 0; pass < passes; pass++) {
      const batch = ++tally.batches;
      const n = await withLockRetry(() => loop.each(session, range, limit, batch), loop.logger);
      matched += n;
      tally.rows += n;
      // Fewer than a full batch: the range is done. After an abort the loop stops the walk.
      if (limit === undefined || n < limit || loop.signal.aborted) break;
    }
    walk.record(range, matched);
  };
  await runOnLanes({
    lanes: loop.sessions,
    next: (session) => walk.next(session.conn),
    run: runRange,
    tally,
    signal: loop.signal,
    logger: loop.logger,
  });
  return tally;
}
