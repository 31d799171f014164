import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptBatcher, type RedisLike } from '../../internal/watcher/lock/redis/batcher.js';

/** A client that records every script call and answers each item with its first argument. */
function fakeClient(opts: { cluster?: boolean; fail?: boolean } = {}): {
  client: RedisLike;
  calls: Array<{ keys: string[]; args: string[] }>;
} {
  const calls: Array<{ keys: string[]; args: string[] }> = [];
  const client = {
    isCluster: opts.cluster ?? false,
    defineCommand(name: string) {
      (this as unknown as Record<string, unknown>)[name] = (numKeys: number, ...rest: string[]) => {
        const keys = rest.slice(0, numKeys);
        const args = rest.slice(numKeys);
        calls.push({ keys, args });
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
    assert.deepEqual(calls, [{ keys: ['a', 'b', 'c'], args: ['reply-a', 'reply-b', 'reply-c'] }]);
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

  void test('on a Cluster every item is its own call', async () => {
    const { client, calls } = fakeClient({ cluster: true });
    const b = new ScriptBatcher(client, script);
    await b.push([item('a', '1'), item('b', '2')]);
    assert.equal(calls.length, 2);
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
