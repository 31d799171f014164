/**
 * Reading ahead of the writers (internal/watcher/kit/read-ahead.ts): the next item is read as soon
 * as the one before it has been read, no further; items come in order; a failed read is reported
 * once, by the take that reaches it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inTurn, readAhead, type Reader } from '../../internal/watcher/kit/read-ahead.js';

/** An iterator over 1..n whose reads finish only when the test says so. */
function manual(n: number, failAt?: number) {
  const pending: Array<() => void> = [];
  let started = 0;
  let returned = false;
  const it: AsyncIterator<number> = {
    next: () => {
      const i = ++started;
      return new Promise((resolve, reject) => {
        pending.push(() => {
          if (i === failAt) reject(new Error(`read ${i} failed`));
          else resolve(i > n ? { done: true, value: undefined } : { done: false, value: i });
        });
      });
    },
    return: () => {
      returned = true;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return {
    it,
    started: () => started,
    returned: () => returned,
    /** Finishes the oldest read in flight and lets its callbacks run. */
    finish: async () => {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** Closes `reader`, finishing the reads still in flight (close waits for them). */
async function closeFinishing(reader: Reader<number>, m: ReturnType<typeof manual>): Promise<void> {
  const closing = reader.close();
  for (let i = 0; i < 5; i++) await m.finish();
  await closing;
}

void describe('readAhead', () => {
  void it('reads one item beyond the one in hand, and no further until an item is taken', async () => {
    const m = manual(5);
    const reader = readAhead(m.it);
    assert.equal(m.started(), 1);
    await m.finish();
    assert.equal(m.started(), 2, 'item 2 is read as soon as item 1 is');
    await m.finish();
    assert.equal(m.started(), 2, 'item 3 waits: items 1 and 2 are read but not taken');
    assert.equal(await reader.take(), 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(m.started(), 3, 'taking item 1 lets item 3 be read');
    assert.equal(await reader.take(), 2);
    await m.finish();
    assert.equal(await reader.take(), 3);
    await closeFinishing(reader, m);
    assert.ok(m.returned());
  });

  void it('hands out every item in order and then undefined', async () => {
    const m = manual(3);
    const reader = readAhead(m.it);
    const got: Array<number | undefined> = [];
    for (let i = 0; i < 4; i++) {
      const taken = reader.take();
      for (let k = 0; k < 3; k++) await m.finish();
      got.push(await taken);
    }
    assert.deepEqual(got, [1, 2, 3, undefined]);
    await closeFinishing(reader, m);
  });

  void it('reports a failed read to the take that reaches it; close does not throw it again', async () => {
    const m = manual(5, 2);
    const reader = readAhead(m.it);
    await m.finish();
    await m.finish();
    assert.equal(await reader.take(), 1);
    await assert.rejects(reader.take(), /read 2 failed/);
    await closeFinishing(reader, m);
    assert.ok(m.returned());
  });
});

void describe('inTurn', () => {
  void it('reads an item only when it is taken', async () => {
    const m = manual(1);
    const reader = inTurn(m.it);
    assert.equal(m.started(), 0);
    const taken = reader.take();
    assert.equal(m.started(), 1);
    await m.finish();
    assert.equal(await taken, 1);
    const end = reader.take();
    await m.finish();
    assert.equal(await end, undefined);
    await reader.close();
  });
});
