/**
 * The set-up a `describe` of tests on the shared real Redis repeats: an admin client, the key
 * prefixes and clients the tests register for clean-up, and a check that no promise rejection went
 * unhandled while the suite ran.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { closeAll, deletePrefix, testRedis } from './redis.js';

/** What the tests of a real-Redis suite share; `admin` is set once the suite's `before` ran. */
export interface RedisSuite {
  readonly admin: Redis;
  /** Key prefixes to delete after the suite. */
  readonly prefixes: string[];
  /** Clients to close after the suite. */
  readonly clients: Redis[];
}

/** Registers the suite's `before` and `after` hooks (call it inside the `describe`). */
export function redisSuite(): RedisSuite {
  let admin: Redis | undefined;
  const prefixes: string[] = [];
  const clients: Redis[] = [];
  const rejections: unknown[] = [];
  const onRejection = (r: unknown): void => void rejections.push(r);

  before(() => {
    admin = testRedis();
    process.on('unhandledRejection', onRejection);
  });
  after(async () => {
    for (const p of prefixes) await deletePrefix(admin!, p);
    closeAll(admin!, ...clients);
    process.off('unhandledRejection', onRejection);
    assert.deepEqual(rejections, [], 'no unhandled rejection');
  });
  return {
    get admin(): Redis {
      if (admin === undefined) throw new Error('redisSuite: admin is set in before()');
      return admin;
    },
    prefixes,
    clients,
  };
}
