/**
 * Wiring: the health listener first (it answers while the rest starts), then connections
 * (connections.ts), coordinator, scheduler and status watchers; stopped in reverse.
 * {@link prepareServer} returns a {@link PreparedServer}, whose `start()` may come once (an
 * {@link IllegalStateError} otherwise).
 */
import type { Logger } from 'pino';
import { enabledEntries, type Config } from './config.js';
import type { AnyPlugin } from './watcher/registry.js';
import { isStatusWatcher } from './watcher/status-watcher.js';
import { StatusRunner, splitEntries } from './status-runner.js';
import { createStatusMetrics, type StatusMetrics } from './status-metrics.js';
import { closeAll, type CloseStep } from '../pkg/shutdown/close-all.js';
import { startHealthServer, type HealthServer, type Readiness } from './health.js';
import { Scheduler } from './scheduler/scheduler.js';
import { Connections } from './connections.js';
import { IllegalStateError } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
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

type State = 'prepared' | 'running' | 'stopping' | 'stopped';

/** A daemon whose dependencies are configured but not yet started. */
export class PreparedServer {
  #state: State = 'prepared';
  #conns: Connections | undefined;
  #scheduler: Scheduler | undefined;
  #statusWatchers: StatusRunner | undefined;
  readonly #statusHooks: StatusMetrics;
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
      events: this.#statusHooks,
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
