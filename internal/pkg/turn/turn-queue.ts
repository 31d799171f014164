/**
 * Items gathered during one event-loop turn and handed over together when it ends (`setImmediate`).
 * Timers due at the same instant fire in the same turn, and so do the reactions to replies that came
 * back together: a thousand watchers' items then cost one hand-over, not a thousand.
 */
export class TurnQueue<T> {
  #items: T[] = [];
  #scheduled = false;

  /** @param handOver gets every item queued since the last hand-over, in order (never empty). */
  constructor(private readonly handOver: (items: T[]) => void) {}

  push(item: T): void {
    this.#items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.drain);
  }

  /** Hands over what is queued now (the turn's end does it anyway; this is for an exit path). */
  readonly drain = (): void => {
    this.#scheduled = false;
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.handOver(items);
  };
}
