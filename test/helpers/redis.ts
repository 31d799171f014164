/**
 * Real Redis for integration tests: a client with bounded retries, a random key prefix per test,
 * and cleanup of every key under that prefix.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

/** Where the test Redis listens. */
export const REDIS_HOST = process.env.TEST_REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.TEST_REDIS_PORT ?? 6379);
/** A port where nothing listens (a stopped Redis). */
export const CLOSED_PORT = 6390;

/** A client that fails fast instead of queueing commands while Redis is down. */
export function testRedis(port = REDIS_PORT, host = REDIS_HOST, extra: RedisOptions = {}): Redis {
  const client = new Redis({
    host,
    port,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 500,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 50, 500),
    lazyConnect: false,
    ...extra,
  });
  client.on('error', () => undefined);
  return client;
}

/** A fresh prefix such as `test:4f3a9c1b:`. */
export function randomPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** Closes clients without waiting for replies that will never come. */
export function closeAll(...clients: Redis[]): void {
  for (const c of clients) c.disconnect();
}
