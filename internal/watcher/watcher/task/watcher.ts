/**
 * The `task` watcher: disables users who have been inactive for more than `max-inactive-days`.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { boolField, intField, listField } from '../../options/fields.js';
import { cutoffSeconds, forEachKeyRange, inTransaction, rangeCondition, withConnection } from '../batch.js';
import type { KeyRange, RowId } from '../batch.js';
import { register } from '../registry.js';
import type { RunContext, RunCounts, Watcher } from '../registry.js';

/** Options of the task watcher (`watcher.task.*`). */
export interface TaskOptions {
  /** Days without activity after which a user is disabled; 0 = off. @defaultValue 0 */
  readonly maxInactiveDays: number;
  /** Never disable administrators. @defaultValue true */
  readonly excludeAdmins: boolean;
  /** User names never disabled. @defaultValue [] */
  readonly excludeUsers: readonly string[];
}

/** The predicate for "enabled, eligible and inactive since before `cutoff`" with its parameters. */
function inactiveFilter(options: Readonly<TaskOptions>, cutoff: number): { sql: string; params: unknown[] } {
  // A user who never logged in is measured from createdAt: a new account is not inactive on day one.
  let sql = '`status` = 1 AND COALESCE(UNIX_TIMESTAMP(`loginedAt`), UNIX_TIMESTAMP(`createdAt`)) < ?';
  const params: unknown[] = [cutoff];
  if (options.excludeAdmins) sql += ' AND `isAdmin` = 0';
  if (options.excludeUsers.length > 0) {
    sql += ' AND `name` NOT IN (?)';
    params.push(options.excludeUsers);
  }
  return { sql, params };
}

interface Candidate extends RowDataPacket {
  id: RowId;
  name: string;
}

/**
 * Disables up to `limit` matching users of one key range, lowest ids first; returns their names. A
 * dry run (`limit` undefined) only names every match.
 */
async function disableRange(
  conn: PoolConnection,
  range: KeyRange,
  filter: { sql: string; params: unknown[] },
  limit: number | undefined,
): Promise<string[]> {
  const r = rangeCondition(range);
  const select = `SELECT \`id\`, \`name\` FROM \`user\` WHERE ${r.sql} AND ${filter.sql} ORDER BY \`id\``;
  const params = [...r.params, ...filter.params];
  if (limit === undefined) {
    const [rows] = await conn.query<Candidate[]>(select, params);
    return rows.map((u) => u.name);
  }
  return inTransaction(conn, async () => {
    // Lock the matching rows first, so the names logged are exactly the rows the UPDATE changes.
    const [rows] = await conn.query<Candidate[]>(`${select} LIMIT ? FOR UPDATE`, [...params, limit]);
    if (rows.length === 0) return [];
    const [result] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = 0 WHERE \`id\` IN (?) AND ${filter.sql}`,
      [rows.map((u) => u.id), ...filter.params],
    );
    if (result.affectedRows !== rows.length) {
      throw new Error(`disabled ${result.affectedRows} of ${rows.length} locked users; rolled back`);
    }
    return rows.map((u) => u.name);
  });
}

/** Disables the inactive users of the IAM `user` table, batch by batch. */
async function run(ctx: RunContext<TaskOptions>): Promise<RunCounts> {
  const { options, settings, logger, signal } = ctx;
  if (options.maxInactiveDays === 0) return { disabled: 0, batches: 0, dryRun: settings.dryRun };
  return withConnection(ctx.db, async (conn) => {
    const cutoff = await cutoffSeconds(conn, options.maxInactiveDays);
    const filter = inactiveFilter(options, cutoff);
    const totals = await forEachKeyRange({
      conn,
      table: 'user',
      batchSize: settings.batchSize,
      dryRun: settings.dryRun,
      signal,
      logger,
      each: async (range, limit, batch) => {
        const names = await disableRange(conn, range, filter, limit);
        if (names.length > 0) {
          const msg = settings.dryRun ? 'users would be disabled (dry run)' : 'users disabled';
          logger.info({ batch, count: names.length, names, dryRun: settings.dryRun }, msg);
        }
        return names.length;
      },
    });
    return { disabled: totals.rows, batches: totals.batches, dryRun: settings.dryRun };
  });
}

/**
 * Disables users whose last activity (`loginedAt`, or `createdAt` for users who never logged in) is
 * more than `max-inactive-days` ago by the database's clock. Only `status` changes, from 1 to 0, in
 * one short transaction per primary-key range; every disabled name is logged. An aborted run throws
 * the signal's reason after the current range (see `forEachKeyRange`).
 */
export const taskWatcher: Watcher<TaskOptions> = {
  name: 'task',
  description: 'Disables users inactive for more than max-inactive-days.',
  schedule: '@every 1d',
  options: {
    maxInactiveDays: intField({
      default: 0,
      min: 0,
      max: 36_500,
      unit: 'days',
      doc: 'Disable users whose last login (or creation, if they never logged in) is older than this many days; 0 = never.',
    }),
    excludeAdmins: boolField({ default: true, doc: 'Never disable administrators (isAdmin = 1).' }),
    excludeUsers: listField({ default: [], doc: 'User names that are never disabled.' }),
  },
  describe(options) {
    if (options.maxInactiveDays === 0) return 'max-inactive-days is 0: the task watcher does nothing';
    const kept = [
      options.excludeAdmins ? 'admins' : '',
      options.excludeUsers.length > 0 ? `${options.excludeUsers.length} listed names` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    return `disables users inactive for more than ${options.maxInactiveDays} days${kept ? ` (except ${kept})` : ''}`;
  },
  run,
};

register(taskWatcher);
