/**
 * The configuration schema: every key the daemon reads, in documentation order, with its field
 * (type, default, checks, doc) and where its value lands in {@link Config}. Flags, environment
 * names, `--help`, the validator and the effective-config view are all derived from this one list.
 */
import type { Config } from '../config.js';
import { commonWatcherKeys, ownWatcherKeys, type Entry, type WatcherSpec } from './watcher-keys.js';
import { mysqlKeys } from './mysql-keys.js';
import { redisKeys } from './redis-keys.js';
import { statusPageKeys } from './status-page-keys.js';
import { notifyKeys } from './notify-keys.js';
import { logKeys } from './log-keys.js';
import {
  durationField,
  enumField,
  hostPortField,
  intField,
  listField,
  stringField,
  type Field,
} from './fields.js';
import { checkHostPort, checkInstanceId, checkKeyPrefix, checkUrlPath } from './checks.js';

/** One configuration key. */
export interface ConfigKey {
  /** Dotted YAML path: `watcher.clean.max-reserve-days`. Also the flag name (`--<key>`). */
  readonly key: string;
  readonly field: Field<unknown>;
  /** Property path in {@link Config}: `['watchers', 'clean', 'options', 'maxReserveDays']`. */
  readonly prop: readonly string[];
  /** Shown instead of the default where the default is computed at load time (`instance-id`). */
  readonly defaultText?: string;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

function entry(key: string, prop: readonly string[], field: Field<unknown>, defaultText?: string): ConfigKey {
  return defaultText === undefined ? { key, field, prop } : { key, field, prop, defaultText };
}

function daemonKeys(): Entry[] {
  return [
    [
      'health-check-path',
      ['healthCheckPath'],
      stringField({
        default: 'healthz',
        doc: 'URL path of the liveness endpoint (GET returns {"status": "ok"}).',
        docZh: '存活检查（liveness）端点的 URL 路径（GET 返回 {"status": "ok"}）。',
        allowEmpty: false,
        check: checkUrlPath,
      }),
    ],
    [
      'health-check-address',
      ['healthCheckAddress'],
      hostPortField({
        default: { host: '0.0.0.0', port: 5050 },
        doc: 'host:port the health, readiness and metrics HTTP server listens on.',
        docZh: '健康检查、就绪检查和指标所在 HTTP 服务的监听地址（host:port）。',
      }),
    ],
    [
      'startup-timeout',
      ['startupTimeoutMs'],
      durationField({
        default: 30 * SECOND,
        doc: 'How long start-up waits for MySQL and Redis before giving up with exit code 1.',
        docZh: '启动时等待 MySQL 和 Redis 可用的最长时间，超时则放弃启动，退出码为 1。',
        minMs: 100,
      }),
    ],
    [
      'shutdown-timeout',
      ['shutdownTimeoutMs'],
      durationField({
        default: 3 * MINUTE,
        doc: 'How long shutdown waits for running jobs before abandoning them.',
        docZh: '关停时等待运行中任务结束的最长时间，超时后放弃这些任务。',
      }),
    ],
    [
      'instance-id',
      ['instanceId'],
      stringField({
        default: '',
        doc: 'Name of this instance in locks, logs and metrics; empty means <hostname>-<pid>.',
        docZh: '本实例在锁、日志和指标中的名称；为空时取 <hostname>-<pid>。',
        check: checkInstanceId,
      }),
      '<hostname>-<pid>',
    ],
  ];
}

/** `lock.*`: where and how slots are claimed. */
function lockKeys(): Entry[] {
  return [
    [
      'lock.backend',
      ['lock', 'backend'],
      enumField({
        default: 'redis',
        values: ['redis', 'local'],
        doc: 'Where slots are claimed: redis (cluster-wide, several instances) or local (one instance, no Redis).',
        docZh: '在哪里认领时间槽：redis（集群范围，可运行多个实例）或 local（单实例，不需要 Redis）。',
      }),
    ],
    [
      'lock.lease',
      ['lock', 'leaseMs'],
      durationField({
        default: 30 * SECOND,
        doc: 'Lease of a running slot; the holder extends it while it runs, and a crashed holder frees it after this time.',
        docZh: '运行中时间槽的租约时长；持有者在运行期间持续续约，持有者崩溃后租约在这段时间后释放。',
        minMs: SECOND,
      }),
    ],
    [
      'lock.key-prefix',
      ['lock', 'keyPrefix'],
      stringField({
        default: 'iam-watcher',
        doc: 'Prefix of every Redis key the daemon writes.',
        docZh: '守护进程写入的每个 Redis 键的前缀。',
        check: checkKeyPrefix,
      }),
    ],
    [
      'lock.redis-addrs',
      ['lock', 'redisAddrs'],
      listField({
        default: [],
        doc: 'host:port of independent Redis servers (3 or 5, not replicas of one another) where slots are claimed and leases held by majority; empty means the redis connection.',
        docZh:
          '若干台相互独立的 Redis 服务器（3 台或 5 台，彼此不是主从副本）的 host:port，时间槽的认领和租约的持有以多数派为准；为空时使用 redis 连接。',
        check: checkHostPort,
      }),
    ],
  ];
}

/** `history.*`: the run history each watcher keeps in the coordination backend. */
function historyKeys(): Entry[] {
  return [
    [
      'history.size',
      ['history', 'size'],
      intField({
        default: 100,
        doc: 'Runs kept per watcher in the run history (iam-watcher history); the oldest go first.',
        docZh: '每个 watcher 在运行历史中保留的运行条数（iam-watcher history）；超出时最早的先删除。',
        min: 1,
        max: 10_000,
        unit: 'runs',
      }),
    ],
    [
      'history.max-age',
      ['history', 'maxAgeMs'],
      durationField({
        default: 28 * DAY,
        doc: 'Runs older than this leave the history; a watcher that stops running loses its history this long after its last run.',
        docZh: '早于这段时间的运行记录从历史中移除；停止运行的 watcher 在最后一次运行这么久之后失去其历史。',
        minMs: MINUTE,
      }),
    ],
  ];
}

/** The keys of each watcher list already asked for (the daemon has one list for its lifetime). */
const keysOf = new WeakMap<readonly WatcherSpec[], readonly ConfigKey[]>();

/**
 * Every configuration key in schema order: daemon, status page, lock, mysql, redis, log, notify, then each watcher (common
 * keys, then its own options). For `--help`, flags, environment names and the config reference.
 * Built once per watcher list (by identity) and frozen.
 * @throws WatcherDefinitionError when a watcher declares an option that clashes with a common key.
 */
export function configKeys(watchers: readonly WatcherSpec[]): readonly ConfigKey[] {
  let keys = keysOf.get(watchers);
  if (keys === undefined) {
    const entries = [
      ...daemonKeys(),
      ...statusPageKeys(),
      ...lockKeys(),
      ...historyKeys(),
      ...mysqlKeys(),
      ...redisKeys(),
      ...logKeys(),
      ...notifyKeys(),
      ...watchers.flatMap((w) => [...commonWatcherKeys(w), ...ownWatcherKeys(w)]),
    ];
    keys = Object.freeze(
      entries.map(([key, prop, field, defaultText]) => entry(key, prop, field, defaultText)),
    );
    keysOf.set(watchers, keys);
  }
  return keys;
}

/** `watcher.clean.max-reserve-days` -> `IAM_WATCHER_WATCHER_CLEAN_MAX_RESERVE_DAYS`. */
export function envName(key: string): string {
  return `IAM_WATCHER_${key.toUpperCase().replace(/[.-]/g, '_')}`;
}

/** Prefix of every environment variable the loader reads. */
export const ENV_PREFIX = 'IAM_WATCHER_';

/** The default shown for a key in docs and `--help` (never a secret). */
export function defaultText(k: ConfigKey): string {
  return k.defaultText ?? k.field.format(k.field.default);
}

/** Reads a key's value out of a compiled config by its property path. */
export function readProp(config: Config, prop: readonly string[]): unknown {
  let v: unknown = config;
  for (const p of prop) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

/** Sets `root[path[0]][path[1]]... = value`, making the objects on the way. */
export function writeProp(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = root;
  for (const p of path.slice(0, -1)) {
    node[p] ??= {};
    node = node[p] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}
