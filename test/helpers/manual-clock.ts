/**
 * A clock that moves only when told to, for tests of the scheduler and its timers. `advance()` fires
 * due timers in time order and lets promise callbacks settle between them, so async code driven by
 * timers behaves as in real time.
 */
import type { Clock, TimerHandle } from '../../internal/pkg/clock/clock.js';

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A {@link Clock} whose time moves by {@link ManualClock.advance} and {@link ManualClock.jump}. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, ManualTimer>();

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { id, at: this.#now + Math.max(1, delayMs), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the wall clock without firing timers (a clock jump). */
  jump(deltaMs: number): void {
    this.#now += deltaMs;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      let due: ManualTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= end && (due === undefined || t.at < due.at || (t.at === due.at && t.id < due.id)))
          due = t;
      }
      if (due === undefined) break;
      this.#timers.delete(due.id);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
