/**
 * The `userinit` status watcher (an example, off by default): initialises the users that
 * `user_init` rows ask for (`deploy/sql/user-init.sql`): `pending` -> `normal`, or `failed` when the
 * user is still not found after max-attempts.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { register } from '../registry.js';
import type { HandlerContext, StatusRow, StatusWatcher } from '../status-watcher.js';
import { RowNotReadyError } from '../../errors.js';

/**
 * Finds the IAM user the row names and records it on the row. Idempotent: a second call writes the
 * same values. A user who does not exist (yet) fails the attempt, so the row is retried.
 */
async function handle(row: StatusRow, ctx: HandlerContext<Record<string, never>>): Promise<void> {
  const name = String(row.userName);
  const [users] = await ctx.db.query<RowDataPacket[]>('SELECT `id` FROM `user` WHERE `name` = ?', [name]);
  const user = users[0];
  if (user === undefined) throw new RowNotReadyError(`no IAM user named ${JSON.stringify(name)}`);
  if (ctx.signal.aborted) throw ctx.signal.reason;
  await ctx.db.query('UPDATE `user_init` SET `userId` = ?, `initializedAt` = NOW(3) WHERE `id` = ?', [
    user.id,
    row.id,
  ]);
  ctx.logger.info({ user: name, userId: user.id, attempt: ctx.attempt }, 'user initialised');
}

/** Initialises the users that `user_init` rows ask for. */
export const userInitWatcher: StatusWatcher = {
  kind: 'status',
  name: 'userinit',
  description: 'Example status watcher: initialises the users that pending user_init rows ask for.',
  enabledByDefault: false,
  options: {},
  table: {
    table: 'user_init',
    key: 'id',
    statusColumn: 'status',
    todo: ['pending'],
    done: 'normal',
    failed: 'failed',
    since: 'createdAt',
  },
  handle,
};

register(userInitWatcher);
