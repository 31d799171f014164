/**
 * `iam-watcher status`: connects to the coordination backend (Redis) only, reads the cluster's view
 * of each enabled watcher (status.ts), prints it (status-format.ts) and disconnects. Reads only;
 * needs Redis, not MySQL.
 */
import { pino } from 'pino';
import { enabledEntries, type Config } from './config.js';
import type { AnyPlugin } from './watcher/registry.js';
import type { RedisLike } from './lock/index.js';
import { createRedisCoordinator, createRedisRowClaims } from './lock/index.js';
import { isStatusWatcher } from './watcher/status-watcher.js';
import { createLockRedis, createRedis, waitRedis } from '../pkg/redis/redis.js';
import { Secrets } from '../pkg/censor/censor.js';
import { UsageError, StartupError } from './errors.js';
import { secretValues } from './options/index.js';
import { readHistory, readPaused } from './lock/redis/control.js';
import { readStatus, type ClusterStatus, type RowStatsReader, type StatusControls } from './status.js';
import { renderStatus } from './status-format.js';

/** Reads the paused watchers and each watcher's history (for its failure streak). */
async function readControls(
  redis: RedisLike,
  config: Config,
  watchers: readonly AnyPlugin[],
): Promise<StatusControls> {
  const prefix = config.lock.keyPrefix;
  // Status watchers have no run history (their rows are counted by rowStats).
  const names = enabledEntries(config, watchers)
    .filter((e) => !isStatusWatcher(e.watcher))
    .map((e) => e.watcher.name);
  const [paused, histories] = await Promise.all([
    readPaused(redis, prefix),
    Promise.all(
      names.map((n) => readHistory(redis, prefix, n, config.history.size, config.history.maxAgeMs)),
    ),
  ]);
  return { paused, histories: new Map(names.map((n, i) => [n, histories[i] ?? []])) };
}

/**
 * `iam-watcher status`: connects to Redis only (bounded by `redis.timeout`), reads, disconnects.
 * @returns the text to print. @throws StartupError (exit 1) when Redis does not answer;
 * UsageError (exit 2) when `lock.backend` is local (the state lives inside the daemon then).
 */
export async function clusterStatus(
  config: Config,
  watchers: readonly AnyPlugin[],
  json: boolean,
): Promise<string> {
  if (config.lock.backend !== 'redis') {
    throw new UsageError(
      'status reads the cluster state from Redis; lock.backend is local, so there is none',
    );
  }
  const silent = pino({ level: 'silent' });
  const redis = createRedis(config.redis, silent);
  // Leases (who runs now) live on the lock servers when lock.redis-addrs names them.
  const lockRedis = createLockRedis(config.lock.redisAddrs, config.redis, silent);
  try {
    await Promise.all(
      lockRedis.map((h) => waitRedis(h, config.redis.timeoutMs, silent).catch(() => undefined)),
    );
    try {
      await waitRedis(redis, config.redis.timeoutMs, silent);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StartupError(`cannot read the cluster status: ${reason}`, { cause: err });
    }
    const coordinator = createRedisCoordinator({
      redis: redis.client,
      lockRedis: lockRedis.map((h) => h.client),
      keyPrefix: config.lock.keyPrefix,
      leaseMs: config.lock.leaseMs,
      instanceId: config.instanceId,
    });
    let status: ClusterStatus;
    try {
      const rowStats: RowStatsReader = (w) =>
        createRedisRowClaims({
          redis: redis.client,
          keyPrefix: config.lock.keyPrefix,
          watcher: w,
          instanceId: config.instanceId,
        }).stats();
      const controls = await readControls(redis.client, config, watchers);
      status = await readStatus(coordinator, config, watchers, Date.now(), { controls, rowStats });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StartupError(`cannot read the cluster status from ${redis.target}: ${reason}`, {
        cause: err,
      });
    }
    return renderStatus(status, json, new Secrets(secretValues(config, watchers)));
  } finally {
    await Promise.all([redis.close(), ...lockRedis.map((h) => h.close())]);
  }
}
