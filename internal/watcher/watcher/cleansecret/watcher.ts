/**
 * The `cleansecret` watcher: deletes secrets that expired more than `max-expired-days` ago.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { intField } from '../../options/fields.js';
import { cutoffSeconds, forEachKeyRange, inTransaction, rangeCondition, withConnection } from '../batch.js';
import type { KeyRange, RowId } from '../batch.js';
import { register } from '../registry.js';
import type { RunContext, RunCounts, Watcher } from '../registry.js';

/** Options of the cleansecret watcher (`watcher.cleansecret.*`). */
export interface CleanSecretOptions {
  /** Days a secret is kept after it expired; 0 = delete as soon as it has expired. @defaultValue 7 */
  readonly maxExpiredDays: number;
}

// `expires` is Unix seconds; 0 means the secret never expires.
const EXPIRED = '`expires` >= 1 AND `expires` < ?';

interface Expired extends RowDataPacket {
  id: RowId;
  name: string;
  username: string;
}

/**
 * Deletes up to `limit` expired secrets of one key range, lowest ids first; returns them as
 * `username/name` (never the key). A dry run (`limit` undefined) only names every match.
 */
async function cleanRange(
  conn: PoolConnection,
  range: KeyRange,
  cutoff: number,
  limit: number | undefined,
): Promise<string[]> {
  const r = rangeCondition(range);
  const select = `SELECT \`id\`, \`name\`, \`username\` FROM \`secret\` WHERE ${r.sql} AND ${EXPIRED} ORDER BY \`id\``;
  const params = [...r.params, cutoff];
  const label = (rows: Expired[]): string[] => rows.map((s) => `${s.username}/${s.name}`);
  if (limit === undefined) {
    const [rows] = await conn.query<Expired[]>(select, params);
    return label(rows);
  }
  return inTransaction(conn, async () => {
    // Lock first, so the secrets logged are exactly the rows the DELETE removes.
    const [rows] = await conn.query<Expired[]>(`${select} LIMIT ? FOR UPDATE`, [...params, limit]);
    if (rows.length === 0) return [];
    const [result] = await conn.query<ResultSetHeader>(
      `DELETE FROM \`secret\` WHERE \`id\` IN (?) AND ${EXPIRED}`,
      [rows.map((s) => s.id), cutoff],
    );
    if (result.affectedRows !== rows.length) {
      throw new Error(`deleted ${result.affectedRows} of ${rows.length} locked secrets; rolled back`);
    }
    return label(rows);
  });
}

/** Deletes the long-expired rows of `secret`, batch by batch. */
async function run(ctx: RunContext<CleanSecretOptions>): Promise<RunCounts> {
  const { options, settings, logger, signal } = ctx;
  ctx.count('deleted', 0);
  return withConnection(ctx.db, async (conn) => {
    const cutoff = await cutoffSeconds(conn, options.maxExpiredDays);
    // One lane: the secret table is small (a few keys per user), and the batches lock what they log.
    const totals = await forEachKeyRange({
      conns: [conn],
      table: 'secret',
      batchSize: settings.batchSize,
      dryRun: settings.dryRun,
      signal,
      logger,
      each: async (_conn, range, limit, batch) => {
        const secrets = await cleanRange(conn, range, cutoff, limit);
        ctx.count('deleted', secrets.length);
        if (secrets.length > 0) {
          const msg = settings.dryRun
            ? 'expired secrets would be deleted (dry run)'
            : 'expired secrets deleted';
          logger.info({ batch, count: secrets.length, secrets, dryRun: settings.dryRun }, msg);
        }
        return secrets.length;
      },
    });
    return { batches: totals.batches, dryRun: settings.dryRun };
  });
}

/**
 * Deletes secrets whose `expires` (Unix seconds; 0 = never) lies more than `max-expired-days` before
 * the database's clock, one short transaction per primary-key range, logging each as
 * `username/name`. Off by default: it deletes credentials. An aborted run throws the signal's reason
 * after the current range (see `forEachKeyRange`).
 */
export const cleanSecretWatcher: Watcher<CleanSecretOptions> = {
  name: 'cleansecret',
  description: 'Deletes secrets that expired more than max-expired-days ago.',
  schedule: '@every 1d',
  enabledByDefault: false,
  options: {
    maxExpiredDays: intField({
      default: 7,
      min: 0,
      max: 36_500,
      unit: 'days',
      doc: 'Delete secrets that expired more than this many days ago (secrets with expires 0 never expire).',
    }),
  },
  describe: (options) => `deletes secrets that expired more than ${options.maxExpiredDays} days ago`,
  run,
};

register(cleanSecretWatcher);
