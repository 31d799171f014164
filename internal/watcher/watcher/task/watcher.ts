/**
 * The `task` watcher: disables users who have been inactive for more than `max-inactive-days`.
 */
import type { PoolConnection } from 'mysql2/promise';
import { boolField, intField, listField } from '../../options/fields.js';
import {
  cutoffSeconds,
  LANES,
  Lanes,
  throwIfAbortedBetweenBatches,
  TransactionChain,
  withConnections,
  withLockRetry,
} from '../batch.js';
import { disable, readCandidates } from './disable.js';
import type { Candidates, Filter } from './disable.js';
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
function inactiveFilter(options: Readonly<TaskOptions>, cutoff: number): Filter {
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

/** A lane of the task watcher: a connection and its chain of batch transactions. */
interface Writer {
  readonly conn: PoolConnection;
  readonly chain: TransactionChain;
}

/** What a run reports. */
interface Totals {
  disabled: number;
  batches: number;
}

/** Disables one batch (retried after a lost deadlock) and returns the names it disabled. */
async function disableLogged(
  ctx: RunContext<TaskOptions>,
  conn: PoolConnection,
  chain: TransactionChain,
  candidates: Candidates,
  filter: Filter,
  batch: number,
): Promise<readonly string[]> {
  const done = await withLockRetry(() => disable(conn, chain, candidates, filter), ctx.logger);
  if (done.redone) {
    ctx.logger.info(
      { batch, candidates: candidates.ids.length, disabled: done.names.length },
      'some users changed between read and update; batch redone under row locks',
    );
  }
  return done.names;
}

/**
 * Walks the candidates and disables them batch by batch. With writers beside the reader, the next
 * batch is read on `reader` while earlier ones are written, one batch in flight per writer (see
 * `Lanes`): reads, updates and commits overlap on the database's cores, and the reader's pass is
 * the longest part (see `LANES` for figures). Without writers (a pool of one, or a dry run) reading
 * and writing take turns on `reader`.
 */
async function disableAll(
  ctx: RunContext<TaskOptions>,
  filter: Filter,
  reader: PoolConnection,
  writers: readonly PoolConnection[],
): Promise<Totals> {
  const { settings, logger, signal } = ctx;
  const totals: Totals = { disabled: 0, batches: 0 };
  const [writer, ...more] = writers;
  const ahead = writer !== undefined;
  const laneOf = (conn: PoolConnection): Writer => ({ conn, chain: new TransactionChain(conn) });
  const writing: readonly [Writer, ...Writer[]] = ahead
    ? [laneOf(writer), ...more.map(laneOf)]
    : [laneOf(reader)];
  const lanes = new Lanes(writing);
  const batches = readCandidates(reader, filter, settings.batchSize);
  let next = batches.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done === true) break;
      if (ahead) {
        next = batches.next();
        // Its failure is reported by the `await next` above, or swallowed in `finally` after an error.
        void next.catch(() => undefined);
      }
      const lane = await lanes.free();
      if (signal.aborted) {
        await lanes.drain();
        throwIfAbortedBetweenBatches(signal, logger, totals.disabled, totals.batches);
      }
      const batch = ++totals.batches;
      lanes.start(lane, async ({ conn, chain }) => {
        const names = settings.dryRun
          ? current.value.names
          : await disableLogged(ctx, conn, chain, current.value, filter, batch);
        if (names.length > 0) {
          const msg = settings.dryRun ? 'users would be disabled (dry run)' : 'users disabled';
          logger.info({ batch, count: names.length, names, dryRun: settings.dryRun }, msg);
        }
        totals.disabled += names.length;
        ctx.count('disabled', names.length);
      });
      if (!ahead) {
        await lanes.drain();
        next = batches.next();
      }
    }
    await lanes.drain();
    await Promise.all(writing.map(({ chain }) => chain.close()));
  } finally {
    // Connections go back to the pool only once nothing is in flight on them.
    await lanes.settle();
    await next.catch(() => undefined);
    await batches.return();
  }
  return totals;
}

/** Disables the inactive users of the IAM `user` table, batch by batch. */
async function run(ctx: RunContext<TaskOptions>): Promise<RunCounts> {
  const { options, settings } = ctx;
  ctx.count('disabled', 0);
  if (options.maxInactiveDays === 0) return { batches: 0, dryRun: settings.dryRun };
  // A reader and LANES writers; a dry run writes nothing.
  const totals = await withConnections(
    ctx.db,
    { most: settings.dryRun ? 1 : 1 + LANES, limit: ctx.dbConnectionLimit },
    async ([reader, ...writers]) => {
      const filter = inactiveFilter(options, await cutoffSeconds(reader, options.maxInactiveDays));
      return disableAll(ctx, filter, reader, writers);
    },
  );
  return { batches: totals.batches, dryRun: settings.dryRun };
}

/**
 * Disables users whose last activity (`loginedAt`, or `createdAt` for users who never logged in) is
 * more than `max-inactive-days` ago by the database's clock. Only `status` changes, from 1 to 0, in
 * one short transaction of at most batch-size users per batch; every disabled name is logged, a line
 * per batch. An aborted run throws the signal's reason between batches (see
 * `throwIfAbortedBetweenBatches`).
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
