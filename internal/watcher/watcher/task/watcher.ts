/**
 * The `task` watcher: disables users who have been inactive for more than `max-inactive-days`.
 */
import { boolField, intField, listField } from '../../options/fields.js';
import { updateByKeyRange } from '../../kit/index.js';
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

/** Disables the inactive users of the IAM `user` table, batch by batch. */
async function run(ctx: RunContext<TaskOptions>): Promise<RunCounts> {
  const { options, settings } = ctx;
  if (options.maxInactiveDays === 0) {
    ctx.count('disabled', 0);
    return { batches: 0, dryRun: settings.dryRun };
  }
  // A user who never logged in is measured from createdAt: a new account is not inactive on day one.
  let where = '`status` = 1 AND COALESCE(UNIX_TIMESTAMP(`loginedAt`), UNIX_TIMESTAMP(`createdAt`)) < ?';
  if (options.excludeAdmins) where += ' AND `isAdmin` = 0';
  if (options.excludeUsers.length > 0) where += ' AND `name` NOT IN (?)';
  return updateByKeyRange(ctx, {
    table: 'user',
    rows: 'users',
    where,
    params: (clock) => [
      clock.daysAgo(options.maxInactiveDays),
      ...(options.excludeUsers.length > 0 ? [options.excludeUsers] : []),
    ],
    set: '`status` = 0',
    action: 'disabled',
    describeRow: { columns: ['name'], field: 'names', name: (row) => String(row['name']) },
  });
}

/**
 * Disables users whose last activity (`loginedAt`, or `createdAt` for users who never logged in) is
 * more than `max-inactive-days` ago by the database's clock. Only `status` changes, from 1 to 0, in
 * one short transaction of at most batch-size users per batch; every disabled name is logged, a line
 * per batch (see `kit/update.ts`).
 */
export const taskWatcher: Watcher<TaskOptions> = {
  name: 'task',
  description: 'Disables users inactive for more than max-inactive-days.',
  // 18:00 UTC = 02:00 in China, after the day's logins and before the 08:00 peak; clean and
  // cleansecret follow an hour apart each (README, Schedules).
  schedule: '@every 1d/18h',
  options: {
    maxInactiveDays: intField({
      default: 0,
      min: 0,
      max: 36_500,
      unit: 'days',
      doc: 'Disable users whose last login (or creation, if they never logged in) is older than this many days; 0 = never.',
      docZh: '禁用最后一次登录（从未登录过的用户按创建时间）距今超过此天数的用户；0 表示从不禁用。',
    }),
    excludeAdmins: boolField({
      default: true,
      doc: 'Never disable administrators (isAdmin = 1).',
      docZh: '从不禁用管理员（isAdmin = 1）。',
    }),
    excludeUsers: listField({
      default: [],
      doc: 'User names that are never disabled.',
      docZh: '永不禁用的用户名。',
    }),
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
