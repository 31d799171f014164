/**
 * The configuration schema: every key the daemon reads, in documentation order, with its field
 * (type, default, checks, doc) and where its value lands in {@link Config}. Flags, environment
 * names, `--help`, the validator and the effective-config view are all derived from this one list.
 */
import type { Config } from '../config.js';
import { commonWatcherKeys, ownWatcherKeys, type Entry, type WatcherSpec } from './watcher-keys.js';
import { mysqlKeys, redisKeys } from './connection-keys.js';
import { statusPageKeys } from './status-page-keys.js';
import { notifyKeys } from './notify-keys.js';
import {
  boolField,
  durationField,
  enumField,
  hostPortField,
  intField,
  listField,
  stringField,
  type Field,
} from './fields.js';
import { checkHostPort, checkInstanceId, checkKeyPrefix, checkOutputPath, checkUrlPath } from './checks.js';

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

function logKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['log', k];
  return [
    [
      'log.name',
      p('name'),
      stringField({
        default: '',
        doc: 'Logger name, written as "name" on every line (zap\'s logger name); empty for none.',
        docZh: '日志器名称，作为 "name" 字段写入每一行（即 zap 的 logger 名称）；为空时不写。',
        maxLength: 128,
      }),
    ],
    [
      'log.development',
      p('development'),
      boolField({
        default: false,
        doc: "Compatibility only (no effect): zap's development mode (stack traces from warn up, panic on dpanic).",
        docZh: '仅为兼容保留（不起作用）：zap 的开发模式（warn 及以上级别打印堆栈，dpanic 时 panic）。',
      }),
    ],
    [
      'log.level',
      p('level'),
      enumField({
        default: 'info',
        values: ['trace', 'debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal', 'silent'],
        doc: "Lowest level written; zap's dpanic and panic write error lines no more, as fatal does.",
        docZh: '输出的最低日志级别；zap 的 dpanic 和 panic 与 fatal 相同，不再输出 error 级别的日志。',
      }),
    ],
    [
      'log.format',
      p('format'),
      enumField({
        default: 'json',
        values: ['json', 'console'],
        doc: 'json (one object per line) or console (text lines for people).',
        docZh: 'json（每行一个 JSON 对象）或 console（便于人工阅读的文本行）。',
      }),
    ],
    [
      'log.enable-color',
      p('enableColor'),
      boolField({
        default: false,
        doc: 'Colour the level of console lines (log.format: console).',
        docZh: '为 console 格式的日志行的级别着色（log.format: console 时）。',
      }),
    ],
    [
      'log.disable-caller',
      p('disableCaller'),
      boolField({
        default: true,
        doc: 'Compatibility only: lines never carry the caller (file:line) here; false is reported at start-up.',
        docZh: '仅为兼容保留：这里的日志行从不带调用位置（文件：行号）；设为 false 时启动时会报告。',
      }),
    ],
    [
      'log.disable-stacktrace',
      p('disableStacktrace'),
      boolField({
        default: false,
        doc: 'Leave the stack trace out of logged errors.',
        docZh: '记录错误时不输出堆栈。',
      }),
    ],
    [
      'log.output-paths',
      p('outputPaths'),
      listField({
        default: ['stdout'],
        doc: 'Where logs go: stdout, stderr or file paths (a list, or one comma-separated string); files are appended to, created mode 0640, reopened on SIGUSR1.',
        docZh:
          '日志输出位置：stdout、stderr 或文件路径（列表，或用逗号分隔的一个字符串）；文件以追加方式写入，不存在时以 0640 权限创建，收到 SIGUSR1 时重新打开。',
        check: checkOutputPath,
      }),
    ],
    [
      'log.error-output-paths',
      p('errorOutputPaths'),
      listField({
        default: [],
        doc: "Where the daemon's own errors also go (error and fatal lines, and failures to write a log output): stdout, stderr or file paths, as log.output-paths.",
        docZh:
          '守护进程自身的错误额外写到哪里（error 和 fatal 级别的日志行，以及写日志输出失败的报告）：stdout、stderr 或文件路径，写法同 log.output-paths。',
        check: checkOutputPath,
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
