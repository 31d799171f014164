/**
 * An abort that makes its `AbortController` only when someone asks for the signal. Most runs end
 * without their watcher or anyone else looking at a signal; at a thousand runs a second, two
 * controllers and a listener per run were a fifth of the scheduler's CPU (`make bench-scheduler`).
 * Plain callbacks ({@link LazyAbort.onAbort}) hear of the abort without making the signal.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #callbacks: Array<(reason: unknown) => void> | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (undefined before). */
  get reason(): unknown {
    return this.#reason;
  }

  /** The signal, made now if nobody asked before (already aborted if the abort came first). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts once: the signal (if made) and every callback. @returns false when already aborted. */
  abort(reason: unknown): boolean {
    if (this.#aborted) return false;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    for (const cb of callbacks ?? []) cb(reason);
    return true;
  }

  /** Calls `cb` once on abort (at once when already aborted). @returns a function that removes it. */
  onAbort(cb: (reason: unknown) => void): () => void {
    if (this.#aborted) {
      cb(this.#reason);
      return () => undefined;
    }
    (this.#callbacks ??= []).push(cb);
    return () => {
      const i = this.#callbacks?.indexOf(cb) ?? -1;
      if (i >= 0) this.#callbacks?.splice(i, 1);
    };
  }
}
