/**
 * Lanes: one batch in flight per lane, each lane a connection (or what a batch needs beside it).
 * Batches on different lanes touch different rows (keys of different ranges or batches), so they
 * never wait for each other's locks; running two at once lets one lane's statement use the
 * database's second core while the other's commits or travels. Each batch stays as short and atomic
 * as alone, so at most `lanes` batches' rows are locked at once.
 */
import { IllegalStateError } from '../errors.js';

/**
 * Batches a run keeps in flight, each on its own connection. Two, for a database on two cores:
 * measured at a million rows (`make bench-watchers`, medians of 3), clean took 0.98x the
 * one-statement floor with two lanes where one took 1.20x; task, whose unlocked read pass is then
 * its longest part, 1.21x with two writers and 1.22x with one.
 */
export const LANES = 2;

/** A set of lanes; see the file comment. */
export class Lanes<T> {
  readonly #lanes: readonly [T, ...T[]];
  readonly #busy: Array<Promise<void> | undefined>;
  #failure: { readonly error: unknown } | undefined;

  constructor(lanes: readonly [T, ...T[]]) {
    this.#lanes = lanes;
    this.#busy = lanes.map(() => undefined);
  }

  /** The value of `lane`. */
  at(lane: number): T {
    if (lane < 0 || lane >= this.#lanes.length) throw new RangeError(`no lane ${lane}`);
    return this.#lanes[lane] as T;
  }

  /** Waits until a lane is free and returns it. Throws the first failure of any batch. */
  async free(): Promise<number> {
    for (;;) {
      this.#throwIfFailed();
      const lane = this.#busy.indexOf(undefined);
      if (lane >= 0) return lane;
      await Promise.race(this.#busy.filter((p) => p !== undefined));
    }
  }

  /** Starts `work` on `lane`, which must be free (see {@link free}). */
  start(lane: number, work: (value: T) => Promise<void>): void {
    if (this.#busy[lane] !== undefined) throw new IllegalStateError(`lane ${lane} is busy`);
    const value = this.at(lane);
    this.#busy[lane] = Promise.resolve()
      .then(() => work(value))
      .then(undefined, (error: unknown) => {
        this.#failure ??= { error };
      })
      .then(() => {
        this.#busy[lane] = undefined;
      });
  }

  /** Waits for every batch in flight, then throws the first failure of any batch. */
  async drain(): Promise<void> {
    await this.settle();
    this.#throwIfFailed();
  }

  /** Waits for every batch in flight; never throws (for `finally` blocks). */
  async settle(): Promise<void> {
    for (;;) {
      const busy = this.#busy.filter((p) => p !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}
