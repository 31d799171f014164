/**
 * The `cleansecret` watcher: deletes secrets that expired more than `max-expired-days` ago.
 */
import { intField } from '../../options/fields.js';
import { purgeByKeyRange } from '../../kit/index.js';
import { register } from '../registry.js';
import type { Watcher } from '../registry.js';

/** Options of the cleansecret watcher (`watcher.cleansecret.*`). */
export interface CleanSecretOptions {
  /** Days a secret is kept after it expired; 0 = delete as soon as it has expired. @defaultValue 7 */
  readonly maxExpiredDays: number;
}

/**
 * Deletes secrets whose `expires` (Unix seconds; 0 = never) lies more than `max-expired-days` before
 * the database's clock, logging each as `username/name` (never the key): each batch locks the
 * secrets it logs, then deletes exactly those (see `kit/purge.ts`). Off by default: it deletes
 * credentials.
 */
export const cleanSecretWatcher: Watcher<CleanSecretOptions> = {
  name: 'cleansecret',
  description: 'Deletes secrets that expired more than max-expired-days ago.',
  // 20:00 UTC = 04:00 in China: an hour after clean (README, Schedules).
  schedule: '@every 1d/20h',
  enabledByDefault: false,
  options: {
    maxExpiredDays: intField({
      default: 7,
      min: 0,
      max: 36_500,
      unit: 'days',
      doc: 'Delete secrets that expired more than this many days ago (secrets with expires 0 never expire).',
      docZh: '删除过期超过此天数的密钥（expires 为 0 的密钥永不过期）。',
    }),
  },
  describe: (options) => `deletes secrets that expired more than ${options.maxExpiredDays} days ago`,
  run: (ctx) =>
    purgeByKeyRange(ctx, {
      table: 'secret',
      rows: 'expired secrets',
      // `expires` is Unix seconds; 0 means the secret never expires.
      where: '`expires` >= 1 AND `expires` < ?',
      params: (clock) => [clock.daysAgo(ctx.options.maxExpiredDays)],
      describeRow: {
        columns: ['username', 'name'],
        field: 'secrets',
        name: (row) => `${String(row['username'])}/${String(row['name'])}`,
      },
      // One lane: the secret table is small (a few keys per user).
      lanes: 1,
    }),
};

register(cleanSecretWatcher);
