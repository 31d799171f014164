/**
 * `lock.backend: redis`. Slot claims are plain `SET key instance NX PX retain` (one round trip);
 * leases go through redlock so that a quorum over several independent Redis servers can be added
 * by passing more clients (`redis` accepts an array). Chain and last-run records are plain keys on
 * the first client.
 */
import { Redlock } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BackendHealth } from './backend-health.js';
import type { ClaimOutcome, Coordinator, LastRunRecord, LeaseResult, LeaseScope } from './coordinator.js';
import { keyNames } from './keys.js';
import { RedisLease, classify } from './redis-lease.js';

/** Options of {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /**
   * The Redis client, or several independent servers (leases then need a majority; claims and
   * records use the first). Give each client `maxRetriesPerRequest`, `commandTimeout` and an
   * `error` listener: the defaults queue commands for a long time while Redis is down.
   */
  readonly redis: Redis | readonly Redis[];
  /** `lock.key-prefix`; a `:` is added when missing. */
  readonly keyPrefix: string;
  /** `lock.lease`: lease length; the holder extends it every third of it. */
  readonly leaseMs: number;
  readonly instanceId: string;
  readonly logger?: Logger;
}

// Compare-and-set of the fixed-delay chain: ARGV[1] the expected value ('' = none), ARGV[2] the new.
const ADVANCE_CHAIN = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** Creates the Redis coordinator. */
export function createRedisCoordinator(options: RedisCoordinatorOptions): Coordinator {
  const clients: readonly Redis[] = Array.isArray(options.redis) ? options.redis : [options.redis as Redis];
  const main = clients[0];
  if (main === undefined) throw new Error('createRedisCoordinator: no Redis client');
  const keys = keyNames(options.keyPrefix);
  const health = new BackendHealth(options.logger, 'redis');
  const leases = new Set<RedisLease>();
  // redlock's scripts SELECT a database themselves: give them the client's, or they use 0.
  const redlock = new Redlock(clients, { retryCount: 0, db: main.options.db ?? 0 });
  // redlock emits every failed vote (also "already locked"); without a listener the emit throws.
  redlock.on('error', () => undefined);

  const guard = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      health.ok();
      return result;
    } catch (err) {
      health.failed(err, operation);
      throw err;
    }
  };

  return {
    backend: 'redis',
    leaseMs: options.leaseMs,
    get available() {
      return health.available;
    },
    async claimSlot(watcher, slotMs, retainMs): Promise<ClaimOutcome> {
      try {
        const r = await main.set(
          keys.slot(watcher, slotMs),
          options.instanceId,
          'PX',
          Math.max(1, Math.ceil(retainMs)),
          'NX',
        );
        health.ok();
        return r === 'OK' ? 'claimed' : 'taken';
      } catch (err) {
        health.failed(err, 'claim');
        return 'unavailable';
      }
    },
    isClaimed: (watcher, slotMs) =>
      guard('read-claim', async () => (await main.exists(keys.slot(watcher, slotMs))) === 1),
    async acquireLease(watcher, scope: LeaseScope): Promise<LeaseResult> {
      const key = keys.lease(watcher, scope);
      let lock;
      try {
        lock = await redlock.acquire([key], options.leaseMs, { retryCount: 0 });
      } catch (err) {
        let verdict: 'held' | 'failed';
        try {
          verdict = await classify(err);
        } catch {
          verdict = 'failed';
        }
        if (verdict === 'held') {
          health.ok();
          return { outcome: 'held' };
        }
        health.failed(err, 'lease');
        return { outcome: 'unavailable', error: err };
      }
      health.ok();
      const lease = new RedisLease(watcher, key, lock, options.leaseMs, {
        // The scheduler logs and counts the loss (it knows the slot); here only the bookkeeping.
        onLost: (l) => leases.delete(l),
        onReleased: (l) => leases.delete(l),
        onBackendError: (err, op) => health.failed(err, op),
        onBackendOk: () => health.ok(),
      });
      leases.add(lease);
      if (scope.kind !== 'waiting') {
        // For `status` only: best effort, off the run's path; read back only while `key` exists.
        const rec = JSON.stringify({ instance: options.instanceId, sinceMs: Date.now(), key });
        main.set(keys.holder(watcher), rec).catch(() => undefined);
      }
      return { outcome: 'acquired', lease };
    },
    isRunning: (watcher) =>
      guard('read-running', async () => (await main.exists(keys.lease(watcher, { kind: 'running' }))) === 1),
    chainEnd: (watcher) =>
      guard('read-chain', async () => {
        const v = await main.get(keys.chain(watcher));
        return v === null || v === '' ? undefined : Number(v);
      }),
    advanceChain: (watcher, expectedMs, endMs) =>
      guard('write-chain', async () => {
        const r = await main.eval(
          ADVANCE_CHAIN,
          1,
          keys.chain(watcher),
          expectedMs === undefined ? '' : String(expectedMs),
          String(endMs),
        );
        return r === 1;
      }),
    recordRun: (record: LastRunRecord) =>
      guard('write-last-run', async () => {
        await main.set(keys.lastRun(record.watcher), JSON.stringify(record));
      }),
    lastRun: (watcher) =>
      guard('read-last-run', async () => {
        const v = await main.get(keys.lastRun(watcher));
        return v === null ? undefined : (JSON.parse(v) as LastRunRecord);
      }),
    holder: (watcher) =>
      guard('read-holder', async () => {
        const v = await main.get(keys.holder(watcher));
        if (v === null) return undefined;
        const rec = JSON.parse(v) as { instance: string; sinceMs: number; key: string };
        return (await main.exists(rec.key)) === 1
          ? { instance: rec.instance, sinceMs: rec.sinceMs }
          : undefined;
      }),
    async close() {
      await Promise.all([...leases].map((l) => l.release()));
    },
  };
}
