/**
 * The watcher kit: what a watcher needs to change the IAM database in bounded, atomic batches.
 *
 * Recipes (start here):
 * - {@link purgeByKeyRange}: delete the rows that match a condition (`clean`, `cleansecret`).
 * - {@link updateByKeyRange}: change the rows that match a condition and name each one (`task`).
 *
 * Both walk the table by ranges of its integer key (the watchers' conditions are not indexed), end by
 * their own bound, check the run's signal between batches, do the dry run, log each batch and count
 * the rows through the run context. Underneath, one concept per file: key ranges, lanes, the batch
 * loop, READ COMMITTED sessions and their one transaction idiom, connections, the database clock,
 * lock-wait retry.
 */
export { purgeByKeyRange, type PurgeSpec } from './purge.js';
export { updateByKeyRange, type UpdateSpec } from './update.js';
export type { DbClock } from './db-clock.js';
export type { RowNames, RowSelection } from './rows.js';
export type { KitRun, RecipeTotals } from './run.js';
