/**
 * The `redis.*` keys of the schema, the Go original's names, with their fields and where their
 * values land in the config.
 */
import { boolField, intField, listField, portField, secondsOrDurationField, stringField } from './fields.js';
import { checkHost, checkHostPort, checkReadableFile } from './checks.js';
import type { Entry } from './watcher-keys.js';

const SECOND = 1_000;

/** `redis.*`: the coordination backend (and the lock servers' defaults). */
export function redisKeys(): Entry[] {
  return [...redisServerKeys(), ...redisClientKeys()];
}

/**
 * Which Redis: its address (or the Sentinels' and the master name, or the Cluster nodes'), the
 * user, the database.
 */
function redisServerKeys(): Entry[] {
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
  ];
}

/** How the client connects: the Go client's pool sizes (no effect), Cluster, TLS, timeout. */
function redisClientKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['redis', k];
  return [
    [
      'redis.optimisation-max-idle',
      p('optimisationMaxIdle'),
      intField({
        default: 2000,
        doc: "Compatibility only (no effect): the Go client's most idle pooled connections; one multiplexed connection per server is used here.",
        docZh:
          '仅为兼容保留（不起作用）：Go 客户端连接池的最大空闲连接数；这里每台服务器只用一条多路复用连接。',
        min: 0,
      }),
    ],
    [
      'redis.optimisation-max-active',
      p('optimisationMaxActive'),
      intField({
        default: 4000,
        doc: "Compatibility only (no effect): the Go client's most active pooled connections; one multiplexed connection per server is used here.",
        docZh:
          '仅为兼容保留（不起作用）：Go 客户端连接池的最大活跃连接数；这里每台服务器只用一条多路复用连接。',
        min: 0,
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
      secondsOrDurationField({
        default: 5 * SECOND,
        doc: 'Timeout of a Redis connect or command: a duration (5s), or an integer of seconds as in the Go original; 0 means the default.',
        docZh:
          'Redis 建立连接或执行命令的超时时间：时长（如 5s），或与 Go 版相同的整数秒数；0 表示使用默认值。',
        minMs: 1,
        zeroMeansMs: 5 * SECOND,
      }),
    ],
  ];
}
