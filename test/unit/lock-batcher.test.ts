import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ITEM_SEPARATOR, ScriptBatcher, type RedisLike } from '../../internal/watcher/lock/redis/batcher.js';

interface Call {
  keys: string[];
  args: string[];
  /** Sent packed: no declared key, keys and arguments each joined into one argument. */
  packed: boolean;
}

/**
 * A client that records every script call (unpacking a packed one as the scripts' prelude does)
 * and answers each item with its first argument.
 */
function fakeClient(opts: { cluster?: boolean; fail?: boolean } = {}): {
  client: RedisLike;
  calls: Call[];
} {
  const calls: Call[] = [];
  const client = {
    isCluster: opts.cluster ?? false,
    defineCommand(name: string) {
      (this as unknown as Record<string, unknown>)[name] = (numKeys: number, ...rest: string[]) => {
        const packed = numKeys === 0;
        assert.equal(rest.length, packed ? 2 : rest.length, 'a packed call has two arguments');
        const keys = packed ? (rest[0] ?? '').split(ITEM_SEPARATOR) : rest.slice(0, numKeys);
        const args = packed ? (rest[1] ?? '').split(ITEM_SEPARATOR) : rest.slice(numKeys);
        calls.push({ keys, args, packed });
        if (opts.fail) return Promise.reject(new Error('connection lost'));
        return Promise.resolve(keys.map((_, i) => args[i]));
      };
    },
  };
  return { client: client as unknown as RedisLike, calls };
}

const script = { name: 'testScript', lua: 'return {}' };

/** One item of one key, whose fake reply is `reply`. */
const item = (key: string, reply: string) => ({ keys: [key], args: [reply] });

void describe('ScriptBatcher', () => {
  void test('the items of one turn go out as one call, each caller with its own replies in order', async () => {
    const { client, calls } = fakeClient();
    const b = new ScriptBatcher(client, script);
    const [one, two] = await Promise.all([
      b.push([item('a', 'reply-a')]),
      b.push([item('b', 'reply-b'), item('c', 'reply-c')]),
    ]);
    assert.deepEqual(one, ['reply-a']);
    assert.deepEqual(two, ['reply-b', 'reply-c']);
    assert.deepEqual(calls, [
      { keys: ['a', 'b', 'c'], args: ['reply-a', 'reply-b', 'reply-c'], packed: true },
    ]);
  });

  void test('a hundred items per call, a caller’s items spanning calls; the next turn is a new batch', async () => {
    const { client, calls } = fakeClient();
    const b = new ScriptBatcher(client, script);
    const replies = await b.push(Array.from({ length: 250 }, (_, i) => item(`k${i}`, String(i))));
    assert.deepEqual(
      replies,
      Array.from({ length: 250 }, (_, i) => String(i)),
    );
    assert.deepEqual(
      calls.map((c) => c.keys.length),
      [100, 100, 50],
    );
    assert.deepEqual(await b.push([]), [], 'nothing to send: no call');
    await b.push([item('late', 'x')]);
    assert.equal(calls.length, 4);
  });

  void test('on a Cluster every item is its own call, with its keys declared', async () => {
    const { client, calls } = fakeClient({ cluster: true });
    const b = new ScriptBatcher(client, script);
    await b.push([item('a', '1'), item('b', '2')]);
    assert.deepEqual(calls, [
      { keys: ['a'], args: ['1'], packed: false },
      { keys: ['b'], args: ['2'], packed: false },
    ]);
  });

  void test('empty arguments survive packing; a call with the separator in a value goes unpacked', async () => {
    const { client, calls } = fakeClient();
    const b = new ScriptBatcher(client, script);
    const twoArgs = (key: string, first: string, second: string) => ({ keys: [key], args: [first, second] });
    await b.push([twoArgs('a', '', ''), twoArgs('b', 'x', '')]);
    assert.deepEqual(calls.at(-1), { keys: ['a', 'b'], args: ['', '', 'x', ''], packed: true });
    const odd = `odd${ITEM_SEPARATOR}key`;
    assert.deepEqual(await b.push([item(odd, 'r1'), item('c', 'r2')]), ['r1', 'r2']);
    assert.deepEqual(calls.at(-1), { keys: [odd, 'c'], args: ['r1', 'r2'], packed: false });
  });

  void test('a failed call rejects each caller with an item in it', async () => {
    const { client } = fakeClient({ fail: true });
    const b = new ScriptBatcher(client, script);
    const results = await Promise.allSettled([b.push([item('a', '1')]), b.push([item('b', '2')])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });
});
