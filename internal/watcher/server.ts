/**
 * Wiring: connections, coordinator, scheduler and the health listener, started in that order and
 * stopped in reverse. {@link prepareServer} returns a {@link PreparedServer}, whose `start()` may
 * come once (an {@link IllegalStateError} otherwise).
 */
import type { Logger } from 'pino';
import { enabledEntries, type Config } from './config.js';
import type { AnyPlugin } from './watcher/registry.js';
import { isStatusWatcher } from './watcher/status-watcher.js';
import { StatusRunner, splitEntries } from './status-runner.js';
import { createStatusMetrics } from './status-metrics.js';
import type { StatusHooks } from './kit/status-counts.js';
import { MySQLTlsFileError, createMySQLPool, waitMySQL, type Pool } from '../pkg/mysql/mysql.js';
import { createLockRedis, createRedis, waitRedis, type RedisHandle } from '../pkg/redis/redis.js';
import { closeAll, type CloseStep } from '../pkg/shutdown/close-all.js';
import { startHealthServer, type HealthServer, type Readiness } from './health.js';
import { Scheduler } from './scheduler/scheduler.js';
import {
  createLocalCoordinator,
  createLocalRowClaims,
  createRedisCoordinator,
  createRedisRowClaims,
  quorum,
  type Coordinator,
  type RowClaims,
} from './lock/index.js';
import { ConfigError, IllegalStateError, StartupError } from './errors.js';
import { NotReadyError, answerWithin } from '../pkg/retry/wait-ready.js';
import { createMetrics, type Metrics } from './metrics.js';
import { kebab } from './options/fields.js';
import { DaemonStatus } from './status-page/daemon-status.js';
import { ControlLoop } from './control-loop.js';
import { webhookNotifier } from './notify/from-config.js';
import type { WebhookNotifier } from './notify/webhook.js';
import { combineHooks } from './scheduler-hooks.js';

/** How long shutdown waits for queued webhook notifications to go out. */
const WEBHOOK_FLUSH_MS = 5_000;

export interface ServerDeps {
  readonly config: Config;
  readonly watchers: readonly AnyPlugin[];
  readonly logger: Logger;
  /** Hides secret values in text the scheduler stores (a failed run's error). */
  readonly censor?: (text: string) => string;
}

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

type State = 'prepared' | 'running' | 'stopping' | 'stopped';

/** A daemon whose dependencies are configured but not yet started. */
export class PreparedServer {
  #state: State = 'prepared';
  #conns: Connections | undefined;
  #scheduler: Scheduler | undefined;
  #statusWatchers: StatusRunner | undefined;
  readonly #statusHooks: StatusHooks;
  #health: HealthServer | undefined;
  /** The heartbeat and the status page. */
  readonly #daemonStatus: DaemonStatus;
  #control: ControlLoop | undefined;
  #stopped: Promise<number> | undefined;
  readonly #startAbort = new AbortController();
  readonly #metrics: Metrics;
  /** `notify.webhook-url`: undefined when it is empty. */
  readonly #notifier: WebhookNotifier | undefined;
  /** The latest reloaded config (watcher settings apply; other keys need a restart). */
  #watcherConfig: Config | undefined;
  #resolveDone: (code: number) => void = () => undefined;

  /** Resolves with the exit code once {@link stop} has finished (whoever called it). */
  readonly done: Promise<number> = new Promise<number>((resolve) => {
    this.#resolveDone = resolve;
  });

  constructor(private readonly deps: ServerDeps) {
    const enabled = enabledEntries(deps.config, deps.watchers);
    const scheduled = (c: Config) =>
      enabledEntries(c, deps.watchers).filter((e) => !isStatusWatcher(e.watcher));
    this.#metrics = createMetrics(
      scheduled(deps.config).map((e) => e.watcher.name),
      {
        watchers: () => scheduled(this.#watcherConfig ?? deps.config).map((e) => e.config),
        coordinator: () => this.#conns?.coordinator,
      },
    );
    this.#statusHooks = createStatusMetrics(
      this.#metrics.registry,
      enabled.filter((e) => isStatusWatcher(e.watcher)).map((e) => e.watcher.name),
    );
    this.#notifier = webhookNotifier(deps.config, deps.logger, deps.censor, this.#metrics.registry);
    this.#daemonStatus = new DaemonStatus({
      config: deps.config,
      current: () => this.#watcherConfig ?? deps.config,
      watchers: deps.watchers,
      ...(deps.censor === undefined ? {} : { censor: deps.censor }),
    });
  }

  /** The daemon's metrics registry (for `/metrics` and tests). */
  get metrics(): Metrics {
    return this.#metrics;
  }

  /** The running scheduler (after start). */
  get scheduler(): Scheduler | undefined {
    return this.#scheduler;
  }

  get healthAddress() {
    return this.#health?.address;
  }

  /** Starts everything: health listener, connections (bounded wait), scheduler. */
  async start(): Promise<void> {
    if (this.#state !== 'prepared') throw new IllegalStateError(`start() called in state ${this.#state}`);
    this.#state = 'running';
    const { config, logger } = this.deps;
    this.#health = await startHealthServer({
      address: config.healthCheckAddress,
      healthPath: config.healthCheckPath,
      readiness: () => this.readiness(),
      metrics: () => this.#metrics.render(),
      ...(this.#daemonStatus.page ? { statusPage: this.#daemonStatus.page } : {}),
    });
    this.#conns = new Connections(config, logger);
    if (config.lock.backend === 'local') {
      logger.warn(
        { event: 'lock.local' },
        'lock.backend is local: slots are coordinated inside this process only; run a single instance',
      );
    }
    await this.#conns.wait(this.#startAbort.signal);
    if (this.#startAbort.signal.aborted) return; // stopped meanwhile: it found no scheduler to stop
    this.#daemonStatus.connected(
      { coordinator: this.#conns.coordinator, redis: this.#conns.redis?.client },
      logger.child({ component: 'instances' }),
    );
    // A SIGHUP during the dependency wait has already replaced the watcher settings.
    const all = enabledEntries(this.#watcherConfig ?? config, this.deps.watchers);
    for (const { watcher, config: wc } of all) {
      const note = watcher.describe?.(wc.options);
      if (note) logger.info({ watcher: watcher.name, event: 'watcher.note' }, note);
    }
    const { entries, status } = splitEntries(all);
    this.#scheduler = new Scheduler({
      entries,
      coordinator: this.#conns.coordinator,
      db: this.#conns.db,
      dbConnectionLimit: config.mysql.maxOpenConnections,
      logger,
      instanceId: config.instanceId,
      hooks:
        this.#notifier === undefined
          ? this.#metrics.hooks
          : combineHooks(this.#metrics.hooks, this.#notifier.hooks),
      ...(this.deps.censor === undefined ? {} : { censor: this.deps.censor }),
    });
    // Paused watchers are known before the first slot (a replica restarted during a pause).
    const redis = this.#conns.redis;
    if (redis !== undefined) {
      this.#control = new ControlLoop({
        redis: redis.client,
        keyPrefix: config.lock.keyPrefix,
        instanceId: config.instanceId,
        logger,
        metrics: this.#metrics,
      });
      await this.#control.load();
      if (this.#startAbort.signal.aborted) return;
      this.#control.start(this.#scheduler);
    }
    this.#scheduler.start();
    const conns = this.#conns;
    this.#statusWatchers = new StatusRunner({
      db: conns.db,
      rowClaims: (w) => conns.rowClaims(w),
      logger,
      instanceId: config.instanceId,
      hooks: this.#statusHooks,
    });
    this.#statusWatchers.start(status);
    logger.info(
      {
        event: 'daemon.started',
        instance: config.instanceId,
        watchers: all.map((e) => e.watcher.name),
        health: this.#health.address,
      },
      `iam-watcher started with ${all.length} watcher(s)`,
    );
  }

  /** `/readyz`: every dependency answers and every enabled watcher is scheduled. */
  async readiness(): Promise<Readiness> {
    if (this.#state !== 'running' || !this.#conns) {
      return { ready: false, checks: { daemon: this.#state === 'running' ? 'starting' : this.#state } };
    }
    const checks = await this.#conns.check();
    const sched = this.#scheduler;
    checks.scheduler = sched ? 'ok' : 'starting';
    for (const s of sched?.scheduled() ?? []) {
      if (!s.nextSlot && !s.running) checks[`watcher.${s.name}`] = 'not scheduled';
    }
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
  }

  /** Applies a new config's watcher settings without a restart (SIGHUP). */
  reconfigure(config: Config): void {
    this.#watcherConfig = config;
    const { entries, status } = splitEntries(enabledEntries(config, this.deps.watchers));
    this.#scheduler?.reconfigure(entries);
    this.#statusWatchers?.reconfigure(status, config.shutdownTimeoutMs).catch((err: unknown) => {
      this.deps.logger.warn(
        { event: 'reload.status-failed', err },
        'could not apply the status watchers settings',
      );
    });
  }

  /**
   * Stops in reverse order: scheduling and runs (up to `shutdown-timeout`), connections, health.
   * Idempotent. Resolves with the exit code: 0, or 1 when runs had to be abandoned.
   */
  stop(): Promise<number> {
    return (this.#stopped ??= this.#stop().then((code) => {
      this.#resolveDone(code);
      return code;
    }));
  }

  async #stop(): Promise<number> {
    const { config, logger } = this.deps;
    this.#state = 'stopping';
    this.#startAbort.abort();
    logger.info({ event: 'daemon.stopping' }, 'stopping: waiting for running jobs');
    let abandoned = 0;
    const steps: CloseStep[] = [
      { name: 'controls', run: () => this.#control?.stop() },
      {
        name: 'scheduler',
        run: async () => {
          // Both at once: each waits up to shutdown-timeout for its own handlers and runs.
          const [sched, status] = await Promise.all([
            this.#scheduler?.stop(config.shutdownTimeoutMs),
            this.#statusWatchers?.stop(config.shutdownTimeoutMs),
          ]);
          abandoned = (sched?.abandoned ?? 0) + (status?.abandoned ?? 0);
        },
      },
      { name: 'heartbeat', run: () => this.#daemonStatus.stop() },
      { name: 'notify', run: () => this.#notifier?.close(WEBHOOK_FLUSH_MS) },
      { name: 'connections', run: () => this.#conns?.close() },
      { name: 'health', run: () => this.#health?.close() },
    ];
    const failures = await closeAll(steps);
    for (const f of failures) {
      logger.warn({ event: 'shutdown.step-failed', step: f.step, err: f.error }, `stopping ${f.step} failed`);
    }
    this.#state = 'stopped';
    logger.info({ event: 'daemon.stopped', abandoned }, 'stopped');
    return abandoned > 0 || failures.length > 0 ? 1 : 0;
  }
}

/** Creates the daemon; nothing is started yet. */
export function prepareServer(deps: ServerDeps): PreparedServer {
  return new PreparedServer(deps);
}
