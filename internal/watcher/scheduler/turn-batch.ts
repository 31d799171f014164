/**
 * Items of one scheduler gathered during one event-loop turn and handed over together when it ends:
 * timers of watchers due at the same instant fire in the same turn, and so do the runs that end
 * together. The slot claims of a turn and the run ends of a turn each reach the coordinator as one
 * batch (one script call per Redis server), not one call per watcher.
 */
import { TurnQueue } from '../../pkg/turn/turn-queue.js';
import type { SchedulerContext } from './context.js';

/** One {@link TurnQueue} per scheduler context, handing its items over with that context. */
export class TurnBatch<T> {
  readonly #queues = new WeakMap<SchedulerContext, TurnQueue<T>>();

  /** @param handOver gets the context and every item it queued during the turn (never empty). */
  constructor(private readonly handOver: (ctx: SchedulerContext, items: T[]) => void) {}

  push(ctx: SchedulerContext, item: T): void {
    let queue = this.#queues.get(ctx);
    if (queue === undefined) {
      queue = new TurnQueue((items) => this.handOver(ctx, items));
      this.#queues.set(ctx, queue);
    }
    queue.push(item);
  }
}
