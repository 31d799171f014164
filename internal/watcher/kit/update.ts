/**
 * The update recipe: change the rows of a table that match a condition (`status = 1` and inactive
 * to `status = 0`), naming every row changed, batch by batch.
 *
 * One connection reads the candidates in key order without locks (see `candidates.ts`) while two
 * writers each change an earlier batch by its key list, in a short transaction that checks the
 * condition again (see `update-batch.ts`): reads, updates and commits overlap on the database's
 * cores, and the reader's pass is the longest part (see `LANES`). Without writers (a pool of one, or
 * a dry run) reading and writing take turns on the reader.
 *
 * The loop ends with the reader's pass, which only moves forward, whatever the writes do. The recipe
 * does the dry run (names the candidates, changes nothing), logs each batch, counts `action` through
 * the run context, and returns `{ batches, dryRun }` for the run's log line.
 */
import { runOnLanes, type Tally } from './batch-loop.js';
import { readCandidates, type Candidates } from './candidates.js';
import { withSessions, type Sessions } from './connections.js';
import { LANES } from './lanes.js';
import { inTurn, readAhead } from './read-ahead.js';
import { withLockRetry } from './retry.js';
import { batchMessage, filterOf, type RowNames, type RowSelection } from './rows.js';
import type { KitRun, RecipeTotals } from './run.js';
import type { Session } from './transaction.js';
import { updateBatch, type UpdateTarget } from './update-batch.js';

/** What to update. */
export interface UpdateSpec extends RowSelection {
  /** The assignments (trusted text): `` `status` = 0 ``. They should make a row stop matching. */
  readonly set: string;
  /** What the change is called: the count's name and the verb of the log lines (`disabled`). */
  readonly action: string;
  /** How each changed row is named in the batch's info line. */
  readonly describeRow: RowNames;
}

/** One batch read, numbered in reading order. */
interface Numbered {
  readonly batch: number;
  readonly candidates: Candidates;
}

/** Changes one batch on `session` (retried after a lost deadlock) and returns the names changed. */
async function write(
  run: KitRun,
  spec: UpdateSpec,
  session: Session,
  target: UpdateTarget,
  { batch, candidates }: Numbered,
): Promise<readonly string[]> {
  const done = await withLockRetry(() => updateBatch(session, target, candidates), run.logger);
  if (done.redone) {
    run.logger.info(
      { batch, candidates: candidates.ids.length, [spec.action]: done.names.length },
      `some ${spec.rows} changed between read and update; batch redone under row locks`,
    );
  }
  return done.names;
}

/** Reads with the first session and writes with the others (or with the first, in turn). */
async function updateAll(run: KitRun, spec: UpdateSpec, target: UpdateTarget, sessions: Sessions) {
  const { settings, logger } = run;
  const [reader, ...writers] = sessions;
  const candidates = readCandidates(reader.conn, target, settings.batchSize);
  const [writer, ...more] = writers;
  const source = writer === undefined ? inTurn(candidates) : readAhead(candidates);
  const message = batchMessage(spec.rows, spec.action, settings.dryRun);
  const tally: Tally = { rows: 0, batches: 0 };
  try {
    await runOnLanes<Session, Numbered>({
      lanes: writer === undefined ? [reader] : [writer, ...more],
      next: async () => {
        const c = await source.take();
        return c === undefined ? undefined : { batch: ++tally.batches, candidates: c };
      },
      run: async (session, work) => {
        const names = settings.dryRun ? work.candidates.names : await write(run, spec, session, target, work);
        if (names.length > 0) {
          const { field } = spec.describeRow;
          logger.info(
            { batch: work.batch, count: names.length, [field]: names, dryRun: settings.dryRun },
            message,
          );
        }
        tally.rows += names.length;
        run.count(spec.action, names.length);
      },
      tally,
      signal: run.signal,
      logger,
    });
  } finally {
    await source.close();
  }
  return tally;
}

/** Changes the matching rows of `spec.table`; see the file comment. */
export async function updateByKeyRange(run: KitRun, spec: UpdateSpec): Promise<RecipeTotals> {
  const { dryRun } = run.settings;
  run.count(spec.action, 0);
  // A reader and LANES writers; a dry run writes nothing.
  const totals = await withSessions(run, dryRun ? 1 : 1 + LANES, (sessions, clock) => {
    const target: UpdateTarget = { ...spec, filter: filterOf(spec, clock), names: spec.describeRow };
    return updateAll(run, spec, target, sessions);
  });
  return { batches: totals.batches, dryRun };
}
