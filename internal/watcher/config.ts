/**
 * The validated, frozen configuration: what `options/` compiles raw input (file, env, flags) into.
 * Units are in names (`leaseMs`); nothing here is raw.
 */
import type { HostPort } from '../pkg/net/host-port.js';
import { IllegalStateError } from './errors.js';

export type LockBackend = 'redis' | 'local';
export type ScheduleMode = 'fixed-rate' | 'fixed-delay';
export type OverlapPolicy = 'skip' | 'allow' | 'delay';
export type LogFormat = 'json' | 'console';
/** pino's levels plus zap's `dpanic` and `panic` (the Go original's names). */
export type LogLevel =
  'trace' | 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal' | 'silent';

/** `watcher.<name>.*`: the keys every watcher has, plus its own `options`. */
export interface WatcherConfig {
  readonly name: string;
  readonly enabled: boolean;
  /** Cron spec (5 or 6 fields, descriptors) or `@every <duration>`. */
  readonly schedule: string;
  /** For `@every`: slots on an epoch grid (`fixed-rate`) or after the previous run ends (`fixed-delay`). */
  readonly mode: ScheduleMode;
  /** What a slot does while the previous run still runs anywhere in the cluster. */
  readonly overlap: OverlapPolicy;
  /** At start-up, run the latest slot inside this window if nobody ran it; 0 = off. */
  readonly catchUpMs: number;
  /** IANA zone for cron specs; undefined = the process's local zone. */
  readonly timeZone: string | undefined;
  readonly dryRun: boolean;
  readonly batchSize: number;
  /** A run still going after this long is aborted and recorded as `timeout`; 0 or absent = no limit. */
  readonly timeoutMs?: number;
  /** Attempts per slot (1 or absent = no retry). */
  readonly retryAttempts?: number;
  /** Wait before the second attempt; doubles after each. */
  readonly retryBackoffMs?: number;
  /** The watcher's own options (camelCase keys), validated by its fields. */
  readonly options: Readonly<Record<string, unknown>>;
  /** A status watcher's settings (`poll-interval`, `concurrency`, ...); absent for scheduled ones. */
  readonly status?: StatusConfig;
}

/** `watcher.<name>.*` of a status watcher beyond enabled, dry-run and batch-size. */
export interface StatusConfig {
  /** Pause after a pass over the table that claimed nothing. */
  readonly pollIntervalMs: number;
  /** Handlers running at once on this replica. */
  readonly concurrency: number;
  /** Claim lease; extended every third of it while the row is in hand. */
  readonly leaseMs: number;
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt up to {@link backoffMaxMs}. */
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  /** Per-row handler timeout; 0 = none. */
  readonly timeoutMs: number;
}

export interface MySQLConfig {
  readonly host: string; // host:port as in the Go original
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly maxIdleConnections: number;
  readonly maxOpenConnections: number;
  readonly maxConnectionLifeTimeMs: number;
  /** `mysql.log-level`: the Go original's GORM level, accepted for compatibility (no effect). */
  readonly logLevel: number;
  readonly tls: MySQLTlsConfig;
}

/** `mysql.tls.*`: file paths as configured (read when the pool is created). */
export interface MySQLTlsConfig {
  readonly enabled: boolean;
  /** Empty strings mean "not set". */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly insecureSkipVerify: boolean;
}

export interface RedisConfig {
  readonly host: string;
  readonly port: number;
  readonly addrs: readonly string[];
  readonly username: string;
  readonly password: string;
  readonly database: number;
  readonly masterName: string;
  /** The Go client's pool sizes, accepted for compatibility (no effect). */
  readonly optimisationMaxIdle: number;
  readonly optimisationMaxActive: number;
  readonly enableCluster: boolean;
  readonly useSsl: boolean;
  readonly sslInsecureSkipVerify: boolean;
  /** PEM CA file for verifying the server; empty = the system CAs. */
  readonly sslCaFile: string;
  readonly timeoutMs: number;
}

export interface LogConfig {
  /** Written as `name` on every line; empty for none. */
  readonly name: string;
  /** Accepted for compatibility (no effect). */
  readonly development: boolean;
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly enableColor: boolean;
  /** Accepted for compatibility: lines never carry a caller. */
  readonly disableCaller: boolean;
  readonly disableStacktrace: boolean;
  /** `stdout`, `stderr` or file paths. */
  readonly outputPaths: readonly string[];
  /** Where error and fatal lines and log write failures also go. */
  readonly errorOutputPaths: readonly string[];
}

export interface LockConfig {
  readonly backend: LockBackend;
  readonly leaseMs: number;
  readonly keyPrefix: string;
  /** `lock.redis-addrs`: independent servers for claims and leases by majority; empty = `redis`. */
  readonly redisAddrs: readonly string[];
}

/** `status-page.*`: the read-only HTML page on the health listener. */
export interface StatusPageConfig {
  /** Serve `/` and `/status`. */
  readonly enabled: boolean;
  /** The page's `<meta http-equiv="refresh">` interval. */
  readonly refreshMs: number;
}

/** `history.*`: the run history kept per watcher in the backend. */
export interface HistoryConfig {
  /** Runs kept per watcher. */
  readonly size: number;
  /** Runs older than this leave the history. */
  readonly maxAgeMs: number;
}

/** `notify.*`: the failure webhook. */
export interface NotifyConfig {
  /** Empty = no webhook. A secret (it may hold a token). */
  readonly webhookUrl: string;
  readonly webhookTimeoutMs: number;
  /** Tries per notification, the first included. */
  readonly webhookAttempts: number;
}

export interface Config {
  /** The file the config was read from, if any. */
  readonly configFile: string | undefined;
  readonly healthCheckPath: string;
  readonly healthCheckAddress: HostPort;
  readonly startupTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly instanceId: string;
  readonly statusPage: StatusPageConfig;
  readonly lock: LockConfig;
  readonly history: HistoryConfig;
  readonly mysql: MySQLConfig;
  readonly redis: RedisConfig;
  readonly log: LogConfig;
  readonly notify: NotifyConfig;
  /** Every registered watcher's config, by name (disabled ones included, `enabled: false`). */
  readonly watchers: Readonly<Record<string, WatcherConfig>>;
}

/** A watcher paired with its config. */
export interface WatcherEntry<W> {
  readonly watcher: W;
  readonly config: WatcherConfig;
}

/**
 * Every watcher with its config (enabled or not), in the order given.
 * @throws IllegalStateError when the config was compiled for another set of watchers.
 */
export function watcherEntries<W extends { readonly name: string }>(
  config: Config,
  watchers: readonly W[],
): Array<WatcherEntry<W>> {
  return watchers.map((watcher) => {
    const wc = config.watchers[watcher.name];
    if (wc === undefined) {
      throw new IllegalStateError(
        `the configuration has no watcher.${watcher.name}: it was compiled for other watchers`,
      );
    }
    return { watcher, config: wc };
  });
}

/** The watchers a config enables, with their config: what the daemon schedules and `status` shows. */
export function enabledEntries<W extends { readonly name: string }>(
  config: Config,
  watchers: readonly W[],
): Array<WatcherEntry<W>> {
  return watcherEntries(config, watchers).filter((e) => e.config.enabled);
}
