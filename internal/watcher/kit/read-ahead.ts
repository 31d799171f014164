/**
 * Reading ahead of the writers: the next batch is read while earlier ones are written.
 */

/** Items of an async iterator in order, at most one read ahead, or none. */
export interface Reader<T> {
  /** The next item, or undefined at the end. */
  take(): Promise<T | undefined>;
  /** Waits for a read in flight (its failure is not reported again) and ends the iterator. */
  close(): Promise<void>;
}

/** Reads each item when it is taken: reading and writing take turns (one connection for both). */
export function inTurn<T>(items: AsyncIterator<T>): Reader<T> {
  return {
    take: async () => {
      const r = await items.next();
      return r.done === true ? undefined : r.value;
    },
    close: async () => {
      await items.return?.();
    },
  };
}

const swallow = (): undefined => undefined;

/**
 * Reads item `n + 1` as soon as item `n` has been read, whether or not `n` was taken yet: while the
 * loop waits for a free writer with one item in hand, the next read is already in flight. The next
 * read after that waits until an item is taken, so at most two items are read but not yet written.
 */
export function readAhead<T>(items: AsyncIterator<T>): Reader<T> {
  const after = (p: Promise<IteratorResult<T>>): Promise<IteratorResult<T>> =>
    p.then((r) => (r.done === true ? r : items.next()));
  let first = items.next();
  let second = after(first);
  // A failed read is reported by the take() that reaches it, or dropped by close() after an error.
  second.catch(swallow);
  return {
    take: async () => {
      const r = await first;
      if (r.done === true) return undefined;
      first = second;
      second = after(first);
      second.catch(swallow);
      return r.value;
    },
    close: async () => {
      await first.catch(swallow);
      await second.catch(swallow);
      await items.return?.();
    },
  };
}
