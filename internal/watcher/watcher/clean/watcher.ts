/**
 * The `clean` watcher: deletes `policy_audit` rows older than `max-reserve-days`.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { intField } from '../../options/fields.js';
import {
  cutoffSeconds,
  forEachKeyRange,
  LANES,
  rangeCondition,
  withConnections,
  withReadCommittedSessions,
} from '../batch.js';
import type { KeyRange } from '../batch.js';
import { register } from '../registry.js';
import type { RunContext, RunCounts, Watcher } from '../registry.js';

/** Options of the clean watcher (`watcher.clean.*`). */
export interface CleanOptions {
  /** Days an audit row is kept after its policy was deleted. @defaultValue 180 */
  readonly maxReserveDays: number;
}

const EXPIRED = 'UNIX_TIMESTAMP(`deletedAt`) < ?';

/**
 * Deletes up to `limit` expired audit rows of one key range, lowest ids first. A dry run (`limit`
 * undefined) only counts every match.
 */
async function cleanRange(
  conn: PoolConnection,
  range: KeyRange,
  cutoff: number,
  limit: number | undefined,
): Promise<number> {
  const r = rangeCondition(range);
  const params = [...r.params, cutoff];
  if (limit === undefined) {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`policy_audit\` WHERE ${r.sql} AND ${EXPIRED}`,
      params,
    );
    return Number(rows[0]?.['n'] ?? 0);
  }
  // One autocommit statement: atomic on its own, one round trip (the session is READ COMMITTED).
  const [result] = await conn.query<ResultSetHeader>(
    `DELETE FROM \`policy_audit\` WHERE ${r.sql} AND ${EXPIRED} ORDER BY \`id\` LIMIT ?`,
    [...params, limit],
  );
  return result.affectedRows;
}

/** Deletes the expired rows of `policy_audit`, batch by batch. */
async function run(ctx: RunContext<CleanOptions>): Promise<RunCounts> {
  const { options, settings, logger, signal } = ctx;
  ctx.count('deleted', 0);
  return withConnections(ctx.db, { most: LANES, limit: ctx.dbConnectionLimit }, (conns) =>
    withReadCommittedSessions(conns, async () => {
      const cutoff = await cutoffSeconds(conns[0], options.maxReserveDays);
      const totals = await forEachKeyRange({
        conns,
        table: 'policy_audit',
        batchSize: settings.batchSize,
        dryRun: settings.dryRun,
        signal,
        logger,
        each: async (conn, range, limit, batch) => {
          const n = await cleanRange(conn, range, cutoff, limit);
          ctx.count('deleted', n);
          logger.debug(
            { batch, fromId: range.from, toId: range.to, count: n, dryRun: settings.dryRun },
            'audit batch',
          );
          return n;
        },
      });
      return { batches: totals.batches, dryRun: settings.dryRun };
    }),
  );
}

/**
 * Deletes `policy_audit` rows whose `deletedAt` is more than `max-reserve-days` before the database's
 * clock, one short DELETE per primary-key range (the table has no index on `deletedAt` and its ids
 * are not in time order, so a range walk reads the table once where a `LIMIT` loop would rescan it),
 * two ranges at once on their own connections (see `Lanes`). An aborted run throws the signal's
 * reason once the batches in flight have finished (see `forEachKeyRange`).
 */
export const cleanWatcher: Watcher<CleanOptions> = {
  name: 'clean',
  description: 'Deletes policy_audit rows older than max-reserve-days.',
  schedule: '@every 1d',
  options: {
    maxReserveDays: intField({
      default: 180,
      // 0 would delete the whole audit trail; turn the watcher off with `enabled: false` instead.
      min: 1,
      max: 36_500,
      unit: 'days',
      doc: 'Keep policy_audit rows for this many days after their policy was deleted.',
    }),
  },
  describe: (options) => `deletes policy audit rows older than ${options.maxReserveDays} days`,
  run,
};

register(cleanWatcher);
