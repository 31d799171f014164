/**
 * The `mysql.*` keys of the schema (with `mysql.tls.*`), the Go original's names, with their fields
 * and where their values land in the config.
 */
import { boolField, durationField, intField, stringField } from './fields.js';
import { checkHostPort, checkReadableFile } from './checks.js';
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
    ...mysqlPoolKeys(),
    [
      'mysql.log-level',
      p('logLevel'),
      intField({
        default: 1,
        doc: "Compatibility only (no effect): the Go original's GORM log level (1 silent, 2 error, 3 warn, 4 info; flag alias --mysql.log-mode); SQL is never logged here.",
        docZh:
          '仅为兼容保留（不起作用）：Go 版的 GORM 日志级别（1 静默、2 error、3 warn、4 info；命令行也可写作 --mysql.log-mode）；这里从不记录 SQL 语句。',
        min: 1,
        max: 4,
      }),
    ],
    ...mysqlTlsKeys(),
  ];
}

/** The MySQL pool: how many connections, idle and open, and how long an idle one lives. */
function mysqlPoolKeys(): Entry[] {
  const p = (k: string): readonly string[] => ['mysql', k];
  return [
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
