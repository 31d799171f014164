/**
 * The `clean` watcher: deletes `policy_audit` rows older than `max-reserve-days`.
 */
import { intField } from '../../options/fields.js';
import { purgeByKeyRange } from '../../kit/index.js';
import { register } from '../registry.js';
import type { Watcher } from '../registry.js';

/** Options of the clean watcher (`watcher.clean.*`). */
export interface CleanOptions {
  /** Days an audit row is kept after its policy was deleted. @defaultValue 180 */
  readonly maxReserveDays: number;
}

/**
 * Deletes `policy_audit` rows whose `deletedAt` is more than `max-reserve-days` before the database's
 * clock, one short autocommit DELETE per batch of a primary-key range (the table has no index on
 * `deletedAt` and its ids are not in time order), two ranges at once (see `kit/purge.ts`).
 */
export const cleanWatcher: Watcher<CleanOptions> = {
  name: 'clean',
  description: 'Deletes policy_audit rows older than max-reserve-days.',
  // 19:00 UTC = 03:00 in China: an hour after task (README, Schedules).
  schedule: '@every 1d/19h',
  options: {
    maxReserveDays: intField({
      default: 180,
      // 0 would delete the whole audit trail; turn the watcher off with `enabled: false` instead.
      min: 1,
      max: 36_500,
      unit: 'days',
      doc: 'Keep policy_audit rows for this many days after their policy was deleted.',
      docZh: '授权策略删除后，其 policy_audit 记录保留的天数。',
    }),
  },
  describe: (options) => `deletes policy audit rows older than ${options.maxReserveDays} days`,
  run: (ctx) =>
    purgeByKeyRange(ctx, {
      table: 'policy_audit',
      rows: 'old audit rows',
      where: 'UNIX_TIMESTAMP(`deletedAt`) < ?',
      params: (clock) => [clock.daysAgo(ctx.options.maxReserveDays)],
    }),
};

register(cleanWatcher);
