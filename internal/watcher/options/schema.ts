/**
 * The configuration schema: every key the daemon reads, in documentation order, with its field
 * (type, default, checks, doc) and where its value lands in {@link Config}. Flags, environment
 * names, `--help`, the validator and the effective-config view are all derived from this one list.
 */
import type { Config } from '../config.js';
import type { AnyWatcher } from '../watcher/registry.js';
import { commonWatcherKeys, ownWatcherKeys, type Entry } from './watcher-keys.js';
import {
  boolField,
  durationField,
  enumField,
  hostPortField,
  intField,
  listField,
  portField,
  stringField,
  type Field,
} from './fields.js';
import {
  checkHost,
  checkHostPort,
  checkInstanceId,
  checkKeyPrefix,
  checkOutputPath,
  checkReadableFile,
  checkUrlPath,
} from './checks.js';

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

function mysqlKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['mysql', k];
  return [
    [
      'mysql.host',
      p('host'),
      stringField({
        default: '127.0.0.1:3306',
        doc: 'MySQL/MariaDB server as host:port.',
        docZh: 'MySQL/MariaDB 服务器地址，格式为 host:port。',
        check: checkHostPort,
      }),
    ],
    [
      'mysql.username',
      p('username'),
      stringField({ default: 'iam', doc: 'MySQL user name.', docZh: 'MySQL 用户名。' }),
    ],
    [
      'mysql.password',
      p('password'),
      stringField({
        default: '',
        doc: 'MySQL password (never printed).',
        docZh: 'MySQL 密码（从不输出）。',
        secret: true,
      }),
    ],
    [
      'mysql.database',
      p('database'),
      stringField({
        default: 'iam',
        doc: 'Database of the IAM apiserver.',
        docZh: 'IAM apiserver 使用的数据库。',
        allowEmpty: false,
      }),
    ],
    [
      'mysql.max-idle-connections',
      p('maxIdleConnections'),
      intField({
        default: 100,
        doc: 'Most idle connections kept in the pool.',
        docZh: '连接池中最多保留的空闲连接数。',
        min: 0,
        max: 10_000,
      }),
    ],
    [
      'mysql.max-open-connections',
      p('maxOpenConnections'),
      intField({
        default: 100,
        doc: 'Most open connections in the pool.',
        docZh: '连接池中最多打开的连接数。',
        min: 1,
        max: 10_000,
      }),
    ],
    [
      'mysql.max-connection-life-time',
      p('maxConnectionLifeTimeMs'),
      durationField({
        default: 10 * SECOND,
        doc: 'Idle connections older than this are closed.',
        docZh: '空闲超过这段时间的连接会被关闭。',
      }),
    ],
    ...mysqlTlsKeys(),
  ];
}

function mysqlTlsKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['mysql', 'tls', k];
  const file = (doc: string, docZh?: string) =>
    stringField({ default: '', doc, docZh, check: checkReadableFile });
  return [
    [
      'mysql.tls.enabled',
      p('enabled'),
      boolField({
        default: false,
        doc: 'Connect to MySQL with TLS; the server certificate is verified.',
        docZh: '通过 TLS 连接 MySQL，并校验服务器证书。',
      }),
    ],
    [
      'mysql.tls.ca-file',
      p('caFile'),
      file(
        'PEM file of the CA certificate(s) that sign the server certificate, read at start-up; empty trusts the system CAs.',
        '签发服务器证书的 CA 证书（PEM 文件），启动时读取；为空时信任系统 CA。',
      ),
    ],
    [
      'mysql.tls.cert-file',
      p('certFile'),
      file(
        'PEM file of the client certificate for mutual TLS (with mysql.tls.key-file), read at start-up; empty for none.',
        '双向 TLS 的客户端证书（PEM 文件，与 mysql.tls.key-file 一起使用），启动时读取；为空表示不使用。',
      ),
    ],
    [
      'mysql.tls.key-file',
      p('keyFile'),
      file(
        "PEM file of the client certificate's private key, read at start-up; empty for none.",
        '客户端证书的私钥（PEM 文件），启动时读取；为空表示不使用。',
      ),
    ],
    [
      'mysql.tls.insecure-skip-verify',
      p('insecureSkipVerify'),
      boolField({
        default: false,
        doc: 'Accept any server certificate (testing only: open to interception).',
        docZh: '接受任意服务器证书（仅用于测试：连接可被中间人截获）。',
      }),
    ],
  ];
}

function redisKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['redis', k];
  return [
    [
      'redis.host',
      p('host'),
      stringField({
        default: '127.0.0.1',
        doc: 'Redis host (without port).',
        docZh: 'Redis 主机（不含端口）。',
        allowEmpty: false,
        check: checkHost,
      }),
    ],
    ['redis.port', p('port'), portField({ default: 6379, doc: 'Redis port.', docZh: 'Redis 端口。' })],
    [
      'redis.addrs',
      p('addrs'),
      listField({
        default: [],
        doc: 'host:port of the Sentinels (with redis.master-name) or the Cluster nodes (with redis.enable-cluster); empty means host and port.',
        docZh:
          'Sentinel 节点（配合 redis.master-name）或 Cluster 节点（配合 redis.enable-cluster）的 host:port；为空时使用 host 和 port。',
        check: checkHostPort,
      }),
    ],
    [
      'redis.username',
      p('username'),
      stringField({
        default: '',
        doc: 'Redis ACL user name; empty for the default user.',
        docZh: 'Redis ACL 用户名；为空时使用默认用户。',
      }),
    ],
    [
      'redis.password',
      p('password'),
      stringField({
        default: '',
        doc: 'Redis password (never printed).',
        docZh: 'Redis 密码（从不输出）。',
        secret: true,
      }),
    ],
    [
      'redis.database',
      p('database'),
      intField({
        default: 0,
        doc: 'Redis logical database number.',
        docZh: 'Redis 逻辑数据库编号。',
        min: 0,
        max: 255,
      }),
    ],
    [
      'redis.master-name',
      p('masterName'),
      stringField({
        default: '',
        doc: 'Sentinel master name; empty when not using Sentinel.',
        docZh: 'Sentinel 主节点名称；不使用 Sentinel 时为空。',
      }),
    ],
    [
      'redis.enable-cluster',
      p('enableCluster'),
      boolField({ default: false, doc: 'Connect to a Redis Cluster.', docZh: '连接 Redis Cluster。' }),
    ],
    [
      'redis.use-ssl',
      p('useSsl'),
      boolField({ default: false, doc: 'Connect with TLS.', docZh: '通过 TLS 连接。' }),
    ],
    [
      'redis.ssl-insecure-skip-verify',
      p('sslInsecureSkipVerify'),
      boolField({
        default: false,
        doc: 'Skip TLS certificate verification (testing only).',
        docZh: '跳过 TLS 证书校验（仅用于测试）。',
      }),
    ],
    [
      'redis.ssl-ca-file',
      p('sslCaFile'),
      stringField({
        default: '',
        doc: 'PEM file of the CA certificate(s) that sign the Redis server certificate, read at start-up; empty trusts the system CAs.',
        docZh: '签发 Redis 服务器证书的 CA 证书（PEM 文件），启动时读取；为空时信任系统 CA。',
        check: checkReadableFile,
      }),
    ],
    [
      'redis.timeout',
      p('timeoutMs'),
      durationField({
        default: 5 * SECOND,
        doc: 'Timeout of a Redis connect or command.',
        docZh: 'Redis 建立连接或执行命令的超时时间。',
        minMs: 1,
      }),
    ],
  ];
}

function logKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['log', k];
  return [
    [
      'log.level',
      p('level'),
      enumField({
        default: 'info',
        values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
        doc: 'Lowest level written.',
        docZh: '输出的最低日志级别。',
      }),
    ],
    [
      'log.format',
      p('format'),
      enumField({
        default: 'json',
        values: ['json', 'console'],
        doc: 'json (one object per line) or console (coloured, for people).',
        docZh: 'json（每行一个 JSON 对象）或 console（彩色输出，便于人工阅读）。',
      }),
    ],
    [
      'log.output-paths',
      p('outputPaths'),
      listField({
        default: ['stdout'],
        doc: 'Where logs go: stdout, stderr or file paths.',
        docZh: '日志输出位置：stdout、stderr 或文件路径。',
        check: checkOutputPath,
      }),
    ],
  ];
}

/**
 * Every configuration key in schema order: daemon, lock, mysql, redis, log, then each watcher (common
 * keys, then its own options). For `--help`, flags, environment names and the config reference.
 * @throws Error when a watcher declares an option that clashes with a common watcher key.
 */
export function configKeys(watchers: readonly AnyWatcher[]): ConfigKey[] {
  const entries = [
    ...daemonKeys(),
    ...mysqlKeys(),
    ...redisKeys(),
    ...logKeys(),
    ...watchers.flatMap((w) => [...commonWatcherKeys(w), ...ownWatcherKeys(w)]),
  ];
  return entries.map(([key, prop, field, defaultText]) => entry(key, prop, field, defaultText));
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
