/**
 * The daemon's connections: the MySQL pool, Redis (and the lock servers of a quorum), the slot
 * coordinator and the row claims of status watchers; waited for at start-up (bounded), checked by
 * `/readyz`, closed at the end. Shared by the daemon and the one-off commands (`run`).
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { MySQLTlsFileError, createMySQLPool, waitMySQL, type Pool } from '../pkg/mysql/mysql.js';
import { createLockRedis, createRedis, waitRedis, type RedisHandle } from '../pkg/redis/redis.js';
import {
  createLocalCoordinator,
  createLocalRowClaims,
  createRedisCoordinator,
  createRedisRowClaims,
  quorum,
  type Coordinator,
  type RowClaims,
} from './lock/index.js';
import { closeAll, type CloseStep } from '../pkg/shutdown/close-all.js';
import { ConfigError, StartupError } from './errors.js';
import { NotReadyError, answerWithin } from '../pkg/retry/wait-ready.js';
import { kebab } from './options/fields.js';

/** The pool; a TLS file that cannot be read is a config error naming its key (exit 2). */
function mysqlPool(config: Config): Pool {
  try {
    return createMySQLPool({ ...config.mysql, connectTimeoutMs: Math.min(config.startupTimeoutMs, 10_000) });
  } catch (err) {
    if (!(err instanceof MySQLTlsFileError)) throw err;
    const key = `mysql.tls.${kebab(err.option)}`;
    throw new ConfigError([{ key, message: err.message }]);
  }
}

/** Connections shared by the daemon and one-off commands (`run`). */
export class Connections {
  readonly db: Pool;
  readonly redis: RedisHandle | undefined;
  /** `lock.redis-addrs`: independent servers for majority claims and leases. */
  readonly lockRedis: RedisHandle[] = [];
  readonly coordinator: Coordinator;
  #closing: Promise<void> | undefined;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
  ) {
    this.db = mysqlPool(config);
    const lock = config.lock;
    if (lock.backend === 'redis') {
      this.redis = createRedis(config.redis, logger.child({ component: 'redis' }));
      this.lockRedis = createLockRedis(
        lock.redisAddrs,
        config.redis,
        logger.child({ component: 'lock-redis' }),
      );
      this.coordinator = createRedisCoordinator({
        redis: this.redis.client,
        lockRedis: this.lockRedis.map((h) => h.client),
        keyPrefix: lock.keyPrefix,
        leaseMs: lock.leaseMs,
        instanceId: config.instanceId,
        logger: logger.child({ component: 'lock' }),
        history: config.history,
      });
    } else {
      this.coordinator = createLocalCoordinator({
        keyPrefix: lock.keyPrefix,
        leaseMs: lock.leaseMs,
        instanceId: config.instanceId,
        logger: logger.child({ component: 'lock' }),
      });
    }
  }

  /**
   * The row claims of a status watcher: on the main Redis connection under `lock.key-prefix`, or in
   * this process with `lock.backend: local`.
   */
  rowClaims(watcher: string): RowClaims {
    if (this.redis === undefined) return createLocalRowClaims();
    return createRedisRowClaims({
      redis: this.redis.client,
      keyPrefix: this.config.lock.keyPrefix,
      watcher,
      instanceId: this.config.instanceId,
    });
  }

  /** Waits for MySQL and Redis together, up to `startup-timeout`. */
  async wait(signal?: AbortSignal): Promise<void> {
    const timeout = this.config.startupTimeoutMs;
    const waits = [waitMySQL(this.db, this.config.mysql.host, timeout, this.logger, signal)];
    if (this.redis) waits.push(waitRedis(this.redis, timeout, this.logger, signal));
    if (this.lockRedis.length > 0) waits.push(this.#waitLockMajority(timeout, signal));
    const results = await Promise.allSettled(waits);
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length > 0) {
      const msg = failed.map((e) => (e instanceof NotReadyError ? e.message : String(e))).join('; ');
      throw new StartupError(msg, { cause: failed[0] });
    }
  }

  /**
   * Resolves once a majority of the `lock.redis-addrs` servers answer (the rest keep reconnecting:
   * a majority is all a claim needs). @throws NotReadyError naming the servers that did not answer.
   */
  async #waitLockMajority(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const need = quorum(this.lockRedis.length);
    const failures: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      let ready = 0;
      for (const h of this.lockRedis) {
        waitRedis(h, timeoutMs, this.logger, signal).then(
          () => {
            if (++ready === need) resolve();
          },
          (err: unknown) => {
            failures.push(err);
            if (this.lockRedis.length - failures.length < need) {
              const why = failures.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
              reject(
                new NotReadyError(
                  `lock.redis-addrs: no majority (${need} of ${this.lockRedis.length}): ${why}`,
                ),
              );
            }
          },
        );
      }
    });
  }

  /** Closes Redis then MySQL; each step runs even if the other fails. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      const steps: CloseStep[] = [{ name: 'coordinator', run: () => this.coordinator.close() }];
      if (this.redis) steps.push({ name: 'redis', run: () => this.redis?.close() });
      for (const h of this.lockRedis) steps.push({ name: h.target, run: () => h.close() });
      steps.push({ name: 'mysql', run: () => this.db.end() });
      for (const f of await closeAll(steps)) {
        this.logger.warn(
          { event: 'shutdown.step-failed', step: f.step, err: f.error },
          `closing ${f.step} failed`,
        );
      }
    })());
  }

  /** For `/readyz`: does each dependency answer now (within 2 s)? */
  async check(): Promise<Record<string, string>> {
    const checks: Record<string, string> = {
      mysql: (await answerWithin(this.db.query('SELECT 1'), 2000)) ?? 'ok',
    };
    const redis = this.redis;
    if (redis) {
      const failed = await answerWithin(redis.client.ping(), 2000);
      // The client's last connection error says more than "timeout" while Redis is down.
      checks.redis = failed === undefined ? 'ok' : (redis.lastError() ?? 'not reachable');
    }
    return checks;
  }
}
