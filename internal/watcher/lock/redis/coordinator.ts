/**
 * `lock.backend: redis`: slot claims and leases on one Redis server (standalone, Sentinel, Cluster),
 * or by majority over several independent Redis servers (`lock.redis-addrs`, the Redlock scheme:
 * see quorum.ts). This file wires the parts together:
 * - claims.ts: the one claim path (claim + lease in one CLAIM item per server), leases alone;
 * - lease-keeper.ts and lease.ts: held leases, extended from one shared timer, lost → AbortSignal;
 * - releaser.ts: the one release path (leases, claims given back, last-run records with them);
 * - records.ts: the fixed-delay chain, last-run records, the holder, existence reads;
 * - batcher.ts: the items of one event-loop turn go out as one `EVALSHA` per server (up to 100).
 *
 * Limits, as for Redlock: the servers must be independent (not replicas of one another: a failover
 * can lose the latest writes), and a server that restarts without persistence forgets its keys; run
 * them with `appendonly yes` + `appendfsync always`, or keep a restarted server out for the claim
 * retention (a few minutes). Server clocks drive the TTLs; large clock jumps on a server shorten them.
 *
 * The fixed-delay chain and the last-run records live on the main `redis` connection (the same
 * server as the claims when there is one server).
 */
import type { Logger } from 'pino';
import type { Coordinator, FinishedRun } from '../coordinator.js';
import { keyNames } from '../keys.js';
import { BackendHealth } from './backend-health.js';
import type { RedisLike } from './batcher.js';
import { Claims } from './claims.js';
import { RedisLease } from './lease.js';
import { LeaseKeeper } from './lease-keeper.js';
import { Records } from './records.js';
import { Releaser, type StoredRecord } from './releaser.js';
import { LockServer } from './servers.js';
import { Tokens } from './tokens.js';

export type { RedisLike } from './batcher.js';

/** Options of {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /**
   * The main Redis client (chain and last-run records; also claims and leases unless `lockRedis`
   * names other servers). Give each client `maxRetriesPerRequest`, `commandTimeout` and an `error`
   * listener: the defaults queue commands for a long time while Redis is down.
   */
  readonly redis: RedisLike;
  /**
   * Independent Redis servers (`lock.redis-addrs`) for claims and leases by majority.
   * @defaultValue `[redis]`
   */
  readonly lockRedis?: readonly RedisLike[];
  /** `lock.key-prefix`; a `:` is added when missing. Must not contain `{` (hash tags). */
  readonly keyPrefix: string;
  /** `lock.lease`: lease length; the holder extends it every third of it. */
  readonly leaseMs: number;
  readonly instanceId: string;
  readonly logger?: Logger;
  /**
   * Retries of a claim after a split vote (no token on a majority); none with one server.
   * @defaultValue 3
   */
  readonly splitRetries?: number;
  /**
   * `history.*`: each finished run is also pushed onto its watcher's history list (in the same
   * RELEASE item as its last-run record), which keeps `size` entries and expires `maxAgeMs` after
   * the latest push.
   * @defaultValue `{ size: 100, maxAgeMs: 28 days }`
   */
  readonly history?: { readonly size: number; readonly maxAgeMs: number };
}

const DEFAULT_HISTORY = { size: 100, maxAgeMs: 28 * 24 * 3600 * 1000 };

/** Creates the Redis coordinator. */
export function createRedisCoordinator(options: RedisCoordinatorOptions): Coordinator {
  const lockClients = options.lockRedis?.length ? options.lockRedis : [options.redis];
  const servers = lockClients.map((c) => LockServer.of(c));
  const main = LockServer.of(options.redis);
  const { leaseMs, instanceId } = options;
  const keys = keyNames(options.keyPrefix);
  const health = new BackendHealth(options.logger, 'redis');
  const releaser = new Releaser(servers, main, health);
  const keeper = new LeaseKeeper(servers, leaseMs, releaser, health);
  const records = new Records(main, servers, keys, releaser, health, options.history ?? DEFAULT_HISTORY);
  const claims = new Claims({
    servers,
    keys,
    tokens: new Tokens(instanceId),
    keeper,
    releaser,
    health,
    leaseMs,
    instanceId,
    splitRetries: servers.length > 1 ? (options.splitRetries ?? 3) : 0,
  });

  /**
   * The end of runs: their leases released and their records stored, one RELEASE item per run on
   * one server. A lease that is not one of ours releases itself, and its record goes alone.
   */
  const finishRuns = async (runs: readonly FinishedRun[]): Promise<void> => {
    const ours: Array<{ lease: RedisLease; record: StoredRecord }> = [];
    const others: Promise<unknown>[] = [];
    for (const { lease, record } of runs) {
      const stored = records.stored(record);
      if (lease instanceof RedisLease && lease.keptBy(keeper)) ours.push({ lease, record: stored });
      else
        others.push(
          lease.release(),
          releaser.release([{ key: stored.key, token: '', record: stored }]).catch(() => undefined),
        );
    }
    await Promise.all([keeper.endAll(ours), ...others]);
  };

  return {
    backend: 'redis',
    leaseMs,
    get available() {
      return health.available;
    },
    claimAndLease: (requests) => claims.claimAndLease(requests),
    unclaimSlot: (watcher, slotMs, token) => claims.unclaimSlot(watcher, slotMs, token),
    isClaimed: (watcher, slotMs) => records.isClaimed(watcher, slotMs),
    acquireLease: (watcher, scope) => claims.acquireLease(watcher, scope),
    isRunning: (watcher) => records.isRunning(watcher),
    chainEnd: (watcher) => records.chainEnd(watcher),
    advanceChain: (watcher, expectedMs, endMs) => records.advanceChain(watcher, expectedMs, endMs),
    recordRun: (record) => records.recordRun(record),
    recordSkipped: (watcher, slotMs, instance, reason) =>
      records.recordSkipped(watcher, slotMs, instance, reason),
    finishRuns,
    lastRun: (watcher) => records.lastRun(watcher),
    lastSuccess: (watcher) => records.lastSuccess(watcher),
    holder: (watcher) => records.holder(watcher),
    close: () => keeper.close(),
  };
}
