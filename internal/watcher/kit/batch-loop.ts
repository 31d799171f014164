/**
 * The loop every recipe runs: hand the next piece of work to a free lane, one piece in flight per
 * lane (see `lanes.ts`), until the work runs out or the run is aborted.
 *
 * The signal is checked before every piece, never inside one: each batch is atomic, so an aborted
 * run leaves every row either done or untouched. On abort the loop lets the work in flight finish,
 * logs the totals and throws `signal.reason` (a DOMException named `AbortError` unless the aborter
 * gave another reason), so the scheduler records the run as aborted.
 */
import type { Logger } from 'pino';
import { Lanes } from './lanes.js';

/** What a loop has done so far. */
export interface Tally {
  /** Rows changed (or that would change in a dry run). */
  rows: number;
  /** Batches (statements or transactions) run. */
  batches: number;
}

/** What {@link runOnLanes} needs. */
export interface LaneLoop<L, W> {
  readonly lanes: readonly [L, ...L[]];
  /** The next piece of work, found on the lane that will do it; undefined ends the loop. */
  readonly next: (lane: L) => Promise<W | undefined>;
  /** Does `work` on `lane`; it updates {@link tally}. */
  readonly run: (lane: L, work: W) => Promise<void>;
  readonly tally: Tally;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** Runs the loop; see the file comment. Returns once every piece has finished. */
export async function runOnLanes<L, W>(loop: LaneLoop<L, W>): Promise<void> {
  const lanes = new Lanes(loop.lanes);
  try {
    for (;;) {
      const lane = await lanes.free();
      if (loop.signal.aborted) {
        await lanes.drain();
        const { rows, batches } = loop.tally;
        loop.logger.warn(
          { changedSoFar: rows, batches },
          'run aborted between batches; finished batches stay',
        );
        loop.signal.throwIfAborted();
      }
      const work = await loop.next(lanes.at(lane));
      if (work === undefined) break;
      lanes.start(lane, (value) => loop.run(value, work));
    }
    await lanes.drain();
  } finally {
    // Connections go back to the pool only once nothing is in flight on them.
    await lanes.settle();
  }
}
