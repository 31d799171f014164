/**
 * The daemon's side of the status page: who this daemon is, its heartbeat on the Redis backend (run
 * whether or not this daemon serves the page: another replica's page lists it), and the page
 * itself when `status-page.enabled`. The server makes one at start-up, hands it the connections once
 * they answer, and stops it before closing them.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Coordinator } from '../lock/index.js';
import type { AnyPlugin } from '../watcher/registry.js';
import type { RedisClient } from '../../pkg/redis/redis.js';
import { Secrets } from '../../pkg/censor/censor.js';
import { secretValues } from '../options/index.js';
import { VERSION } from '../version.js';
import { InstanceHeartbeat, readInstances, type InstanceInfo, type SeenInstance } from './instances.js';
import type { PageReaders, PageRun, PauseState } from './model.js';
import { readHistory, readPaused } from '../lock/index.js';
import { StatusPage, type PageAnswer } from './status-page.js';

/** Options of {@link DaemonStatus}. */
export interface DaemonStatusOptions {
  /** The config the daemon started with (listener, backend, key prefix, instance id). */
  readonly config: Config;
  /** The config in force, watcher settings included (after reloads). */
  readonly current: () => Config;
  readonly watchers: readonly AnyPlugin[];
  /** @defaultValue the config's own secrets censored */
  readonly censor?: (text: string) => string;
  /**
   * Pause and history readers. @defaultValue with `lock.backend: redis`, the ones `status` uses
   * (`iam-watcher pause` and the run history); with `local`, none
   */
  readonly readers?: PageReaders;
}

/** What the daemon has once it is connected. */
export interface DaemonConnections {
  readonly coordinator: Coordinator;
  /** The main Redis connection (`lock.backend: redis`). */
  readonly redis: RedisClient | undefined;
}

/** This daemon's presence and status page. */
export class DaemonStatus {
  readonly self: InstanceInfo;
  readonly #page: StatusPage | undefined;
  #conns: DaemonConnections | undefined;
  #heartbeat: InstanceHeartbeat | undefined;

  constructor(private readonly o: DaemonStatusOptions) {
    this.self = {
      instance: o.config.instanceId,
      host: hostname(),
      pid: process.pid,
      version: VERSION,
      startedMs: Date.now(),
    };
    const secrets = new Secrets(secretValues(o.config, o.watchers));
    if (o.config.statusPage.enabled) {
      this.#page = new StatusPage({
        config: o.current,
        watchers: o.watchers,
        coordinator: () => this.#conns?.coordinator,
        readReplicas: () => this.#replicas(),
        self: this.self,
        censor: o.censor ?? ((t) => secrets.censor(t)),
        ...(o.readers ?? (o.config.lock.backend === 'redis' ? this.#redisReaders() : {})),
      });
    }
  }

  /** The page's answer, or undefined when `status-page.enabled` is false. */
  get page(): (() => Promise<PageAnswer>) | undefined {
    const page = this.#page;
    return page && (() => page.answer());
  }

  /** The connections answer: the page reads the cluster from now on, and this daemon announces itself. */
  connected(conns: DaemonConnections, logger: Logger): void {
    this.#conns = conns;
    if (conns.redis === undefined || this.#heartbeat) return;
    this.#heartbeat = new InstanceHeartbeat({
      redis: conns.redis,
      keyPrefix: this.o.config.lock.keyPrefix,
      self: this.self,
      logger,
    });
    this.#heartbeat.start();
  }

  /** Stops announcing (and leaves the replica list). Never rejects. */
  async stop(): Promise<void> {
    await this.#heartbeat?.stop();
  }

  /** The pause and history reads of the Redis backend (nothing before the connection answers). */
  #redisReaders(): PageReaders {
    const prefix = this.o.config.lock.keyPrefix;
    return {
      readPaused: async () => {
        const redis = this.#conns?.redis;
        const out = new Map<string, PauseState>();
        if (redis === undefined) return out;
        for (const [name, r] of await readPaused(redis, prefix)) {
          out.set(name, {
            ...(r.note === '' ? {} : { note: r.note }),
            sinceMs: r.atMs,
            by: `${r.host}/${r.instance}`,
          });
        }
        return out;
      },
      readHistory: async (watcher, limit): Promise<readonly PageRun[]> => {
        const redis = this.#conns?.redis;
        if (redis === undefined) return [];
        return readHistory(redis, prefix, watcher, limit, this.o.current().history.maxAgeMs);
      },
    };
  }

  #replicas(): Promise<readonly SeenInstance[]> {
    const redis = this.#conns?.redis;
    // With lock.backend local (or before connecting) this daemon is the only one it knows of.
    if (redis === undefined) return Promise.resolve([{ ...this.self, lastSeenMs: Date.now() }]);
    return readInstances(redis, this.o.config.lock.keyPrefix, Date.now());
  }
}
