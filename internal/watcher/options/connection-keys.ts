/**
 * The connection keys of the schema: `mysql.*` (with `mysql.tls.*`) and `redis.*`, the Go
 * original's names, with their fields and where their values land in the config.
 */
import { boolField, durationField, intField, listField, portField, stringField } from './fields.js';
import { checkHost, checkHostPort, checkReadableFile } from './checks.js';
import type { Entry } from './watcher-keys.js';

const SECOND = 1_000;

/** `mysql.*`: the IAM database. */
export function mysqlKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['mysql', k];
  return [
    [
      'mysql.host',
      p('host'),
      stringField({
        default: '127.0.0.1:3306',
        doc: 'MySQL/MariaDB server as host:port.',
        check: checkHostPort,
      }),
    ],
    ['mysql.username', p('username'), stringField({ default: 'iam', doc: 'MySQL user name.' })],
    [
      'mysql.password',
      p('password'),
      stringField({ default: '', doc: 'MySQL password (never printed).', secret: true }),
    ],
    [
      'mysql.database',
      p('database'),
      stringField({ default: 'iam', doc: 'Database of the IAM apiserver.', allowEmpty: false }),
    ],
    [
      'mysql.max-idle-connections',
      p('maxIdleConnections'),
      intField({ default: 100, doc: 'Most idle connections kept in the pool.', min: 0, max: 10_000 }),
    ],
    [
      'mysql.max-open-connections',
      p('maxOpenConnections'),
      intField({ default: 100, doc: 'Most open connections in the pool.', min: 1, max: 10_000 }),
    ],
    [
      'mysql.max-connection-life-time',
      p('maxConnectionLifeTimeMs'),
      durationField({ default: 10 * SECOND, doc: 'Idle connections older than this are closed.' }),
    ],
    ...mysqlTlsKeys(),
  ];
}

function mysqlTlsKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['mysql', 'tls', k];
  const file = (doc: string) => stringField({ default: '', doc, check: checkReadableFile });
  return [
    [
      'mysql.tls.enabled',
      p('enabled'),
      boolField({ default: false, doc: 'Connect to MySQL with TLS; the server certificate is verified.' }),
    ],
    [
      'mysql.tls.ca-file',
      p('caFile'),
      file(
        'PEM file of the CA certificate(s) that sign the server certificate, read at start-up; empty trusts the system CAs.',
      ),
    ],
    [
      'mysql.tls.cert-file',
      p('certFile'),
      file(
        'PEM file of the client certificate for mutual TLS (with mysql.tls.key-file), read at start-up; empty for none.',
      ),
    ],
    [
      'mysql.tls.key-file',
      p('keyFile'),
      file("PEM file of the client certificate's private key, read at start-up; empty for none."),
    ],
    [
      'mysql.tls.insecure-skip-verify',
      p('insecureSkipVerify'),
      boolField({
        default: false,
        doc: 'Accept any server certificate (testing only: open to interception).',
      }),
    ],
  ];
}

/** `redis.*`: the coordination backend (and the lock servers' defaults). */
export function redisKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['redis', k];
  return [
    [
      'redis.host',
      p('host'),
      stringField({
        default: '127.0.0.1',
        doc: 'Redis host (without port).',
        allowEmpty: false,
        check: checkHost,
      }),
    ],
    ['redis.port', p('port'), portField({ default: 6379, doc: 'Redis port.' })],
    [
      'redis.addrs',
      p('addrs'),
      listField({
        default: [],
        doc: 'host:port of the Sentinels (with redis.master-name) or the Cluster nodes (with redis.enable-cluster); empty means host and port.',
        check: checkHostPort,
      }),
    ],
    [
      'redis.username',
      p('username'),
      stringField({ default: '', doc: 'Redis ACL user name; empty for the default user.' }),
    ],
    [
      'redis.password',
      p('password'),
      stringField({ default: '', doc: 'Redis password (never printed).', secret: true }),
    ],
    [
      'redis.database',
      p('database'),
      intField({ default: 0, doc: 'Redis logical database number.', min: 0, max: 255 }),
    ],
    [
      'redis.master-name',
      p('masterName'),
      stringField({ default: '', doc: 'Sentinel master name; empty when not using Sentinel.' }),
    ],
    [
      'redis.enable-cluster',
      p('enableCluster'),
      boolField({ default: false, doc: 'Connect to a Redis Cluster.' }),
    ],
    ['redis.use-ssl', p('useSsl'), boolField({ default: false, doc: 'Connect with TLS.' })],
    [
      'redis.ssl-insecure-skip-verify',
      p('sslInsecureSkipVerify'),
      boolField({ default: false, doc: 'Skip TLS certificate verification (testing only).' }),
    ],
    [
      'redis.ssl-ca-file',
      p('sslCaFile'),
      stringField({
        default: '',
        doc: 'PEM file of the CA certificate(s) that sign the Redis server certificate, read at start-up; empty trusts the system CAs.',
        check: checkReadableFile,
      }),
    ],
    [
      'redis.timeout',
      p('timeoutMs'),
      durationField({ default: 5 * SECOND, doc: 'Timeout of a Redis connect or command.', minMs: 1 }),
    ],
  ];
}
