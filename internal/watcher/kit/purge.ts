/**
 * The purge recipe: delete the rows of a table that match a condition, batch by batch over ranges of
 * its key (see `range-loop.ts`), two ranges at once on their own connections (see `lanes.ts`).
 *
 * Without {@link PurgeSpec.describeRow} a batch is one autocommit `DELETE ... LIMIT` (one round trip,
 * atomic by itself). With it, a batch locks its rows (`SELECT ... FOR UPDATE`), deletes exactly those
 * and logs their names, in one transaction: the names logged are exactly the rows deleted.
 *
 * The recipe does the dry run (counts or names the matches, deletes nothing), counts `deleted`
 * through the run context, and returns `{ batches, dryRun }` for the run's log line.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { UnexpectedResultError } from '../errors.js';
import { withSessions } from './connections.js';
import { rangeCondition, type KeyRange } from './key-range.js';
import { LANES } from './lanes.js';
import { forEachKeyRange } from './range-loop.js';
import { batchMessage, filterOf, selectList, type Filter, type RowNames, type RowSelection } from './rows.js';
import type { KitRun, RecipeTotals } from './run.js';
import type { Session } from './transaction.js';

/** What to purge. */
export interface PurgeSpec extends RowSelection {
  /**
   * Name each deleted row in an info line per batch (`{ batch, count, [field]: names }`); without it
   * each batch logs its count at debug level.
   */
  readonly describeRow?: RowNames;
  /** Batches in flight at once. @defaultValue {@link LANES} */
  readonly lanes?: number;
}

/** One batch of a range: the rows deleted (or that would be), and their names if asked for. */
type Batch = (session: Session, range: KeyRange, limit: number | undefined) => Promise<string[] | number>;

/** A batch that deletes with one statement and names nothing. */
function countedBatch(spec: PurgeSpec, filter: Filter): Batch {
  const key = spec.key ?? 'id';
  return async (session, range, limit) => {
    const r = rangeCondition(range, key);
    const where = `${r.sql} AND ${filter.sql}`;
    const params = [...r.params, ...filter.params];
    if (limit === undefined) {
      const [rows] = await session.conn.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM \`${spec.table}\` WHERE ${where}`,
        params,
      );
      return Number(rows[0]?.['n'] ?? 0);
    }
    const result = await session.statement<ResultSetHeader>(
      `DELETE FROM \`${spec.table}\` WHERE ${where} ORDER BY \`${key}\` LIMIT ?`,
      [...params, limit],
    );
    return result.affectedRows;
  };
}

/** A batch that locks its rows, deletes exactly those and names them. */
function namedBatch(spec: PurgeSpec, names: RowNames, filter: Filter): Batch {
  const key = spec.key ?? 'id';
  return async (session, range, limit) => {
    const r = rangeCondition(range, key);
    const select = `SELECT ${selectList(key, names)} FROM \`${spec.table}\` WHERE ${r.sql} AND ${filter.sql} ORDER BY \`${key}\``;
    const params = [...r.params, ...filter.params];
    if (limit === undefined) {
      const [rows] = await session.conn.query<RowDataPacket[]>(select, params);
      return rows.map(names.name);
    }
    return session.transaction(async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>(`${select} LIMIT ? FOR UPDATE`, [...params, limit]);
      if (rows.length === 0) return [];
      const [result] = await conn.query<ResultSetHeader>(
        `DELETE FROM \`${spec.table}\` WHERE \`${key}\` IN (?) AND ${filter.sql}`,
        [rows.map((row) => row[key] as unknown), ...filter.params],
      );
      if (result.affectedRows !== rows.length) {
        throw new UnexpectedResultError(
          `deleted ${result.affectedRows} of ${rows.length} locked rows; rolled back`,
        );
      }
      return rows.map(names.name);
    });
  };
}

/** Deletes the matching rows of `spec.table`; see the file comment. */
export async function purgeByKeyRange(run: KitRun, spec: PurgeSpec): Promise<RecipeTotals> {
  const { settings, logger } = run;
  const { dryRun } = settings;
  const message = batchMessage(spec.rows, 'deleted', dryRun);
  run.count('deleted', 0);
  const totals = await withSessions(run, spec.lanes ?? LANES, (sessions, clock) => {
    const filter = filterOf(spec, clock);
    const names = spec.describeRow;
    const batch = names ? namedBatch(spec, names, filter) : countedBatch(spec, filter);
    return forEachKeyRange({
      sessions,
      table: spec,
      batchSize: settings.batchSize,
      dryRun,
      signal: run.signal,
      logger,
      each: async (session, range, limit, n) => {
        const done = await batch(session, range, limit);
        const count = typeof done === 'number' ? done : done.length;
        run.count('deleted', count);
        if (typeof done === 'number') {
          logger.debug({ batch: n, fromId: range.from, toId: range.to, count, dryRun }, message);
        } else if (count > 0 && names) {
          logger.info({ batch: n, count, [names.field]: done, dryRun }, message);
        }
        return count;
      },
    });
  });
  return { batches: totals.batches, dryRun };
}
