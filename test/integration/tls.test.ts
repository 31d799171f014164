/**
 * TLS against real local servers, with a throwaway CA (test/helpers/tls.ts):
 * - a private redis-server listening on a TLS port only (`redis.use-ssl`,
 *   `redis.ssl-insecure-skip-verify`, `redis.ssl-ca-file`, or a CA trusted process-wide through
 *   NODE_EXTRA_CA_CERTS);
 * - a private MariaDB that requires secure transport (`mysql.tls.*`).
 * The shared servers on 3306 and 6379 are not touched. The CLI cases need the build (`npm run build`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import mysql from 'mysql2/promise';
import pino from 'pino';
import { createRedis, waitRedis, type RedisClientOptions } from '../../internal/pkg/redis/redis.js';
import { createMySQLPool, type MySQLTlsOptions } from '../../internal/pkg/mysql/mysql.js';
import { createRedisCoordinator } from '../../internal/watcher/lock/index.js';
import { claimOne } from '../helpers/claim.js';
import { freePort, requireBuild, runCli, tempDir, writeConfig } from '../helpers/daemon.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/tls.js';
import { PrivateMariaDB } from '../faults/lib/servers.js';
import { adopt, sleep } from '../faults/lib/procs.js';

const silent = pino({ level: 'silent' });

/** True when a TLS connection to `port` completes its handshake (any certificate) and answers PING. */
function tlsPings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    let reply = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('secureConnect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** A redis-server with no plain-text port, TLS on `port`, client certificates not asked for. */
async function startTlsRedis(files: TlsFiles): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = adopt(
    spawn(
      'redis-server',
      [
        '--port', '0',
        '--bind', '127.0.0.1',
        '--tls-port', String(port),
        '--tls-cert-file', files.serverCert,
        '--tls-key-file', files.serverKey,
        '--tls-ca-cert-file', files.caCert,
        '--tls-auth-clients', 'no',
        '--save', '',
        '--appendonly', 'no',
      ], // prettier-ignore
      { stdio: 'ignore' },
    ),
  );
  const deadline = Date.now() + 5000;
  while (!(await tlsPings(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`TLS redis-server on port ${port} did not start`);
    }
    await sleep(25);
  }
  return { port, child };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** stderr is exactly one line, mentions `what`, and carries no stack trace. */
function assertOneLine(stderr: string, what: RegExp): void {
  assert.match(stderr, /^iam-watcher: [^\n]+\n$/, `one line on stderr, got:\n${stderr}`);
  assert.match(stderr, what);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

let files: TlsFiles;
let dir: string;

before(() => {
  dir = tempDir('iamw-tls-');
  files = makeTlsFiles(dir);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

void describe('Redis over TLS (private redis-server, TLS port only)', () => {
  let redis: { port: number; child: ChildProcess };
  let config: string;

  const options = (o: Partial<RedisClientOptions> = {}): RedisClientOptions => ({
    host: '127.0.0.1',
    port: redis.port,
    addrs: [],
    username: '',
    password: '',
    database: 0,
    masterName: '',
    useSsl: true,
    sslInsecureSkipVerify: false,
    timeoutMs: 1000,
    ...o,
  });

  before(async () => {
    redis = await startTlsRedis(files);
    config = writeConfig(
      dir,
      `instance-id: tls-test
startup-timeout: 2s
mysql:
  host: 127.0.0.1:3306
  username: root
  database: iam
redis:
  host: 127.0.0.1
  port: ${redis.port}
  use-ssl: true
  timeout: 1s
lock:
  key-prefix: "iamw-tls-test:"
`,
      'redis-tls.yaml',
    );
  });
  after(async () => {
    await stop(redis?.child);
  });

  void test('use-ssl with ssl-insecure-skip-verify connects, and a coordinator claims a slot', async () => {
    const h = createRedis(options({ sslInsecureSkipVerify: true }), silent);
    try {
      await waitRedis(h, 3000, silent);
      const c = createRedisCoordinator({
        redis: h.client,
        keyPrefix: 'iamw-tls-test:',
        leaseMs: 1000,
        instanceId: 'a',
      });
      const slot = Date.UTC(2030, 0, 1);
      assert.equal((await claimOne(c, 'w', slot, 60_000)).claim, 'claimed');
      assert.equal((await claimOne(c, 'w', slot, 60_000)).claim, 'taken');
      assert.equal(await c.isClaimed('w', slot), true);
      await c.close();
    } finally {
      await h.close();
    }
  });

  void test('use-ssl with verification and an untrusted CA: the connection fails, naming the reason', async () => {
    const h = createRedis(options(), silent);
    try {
      await assert.rejects(waitRedis(h, 500, silent), /certificate/);
    } finally {
      await h.close();
    }
  });

  void test('CLI: verification on, CA trusted through NODE_EXTRA_CA_CERTS: status connects', () => {
    requireBuild();
    const r = runCli(['status', '-c', config], { env: { NODE_EXTRA_CA_CERTS: files.caCert } });
    assert.equal(r.code, 0, `exit 0, stderr:\n${r.stderr}`);
    assert.match(r.stdout, /^WATCHER\s+LAST SLOT/);
    assert.equal(r.stderr, '');
  });

  void test('CLI: verification on, CA given by redis.ssl-ca-file: status connects', () => {
    requireBuild();
    const r = runCli(['status', '-c', config, '--redis.ssl-ca-file', files.caCert]);
    assert.equal(r.code, 0, `exit 0, stderr:\n${r.stderr}`);
    assert.match(r.stdout, /^WATCHER\s+LAST SLOT/);
  });

  void test('CLI: redis.ssl-ca-file naming the wrong CA: verification fails, exit 1', () => {
    requireBuild();
    const r = runCli(['status', '-c', config, '--redis.ssl-ca-file', files.otherCaCert]);
    assert.equal(r.code, 1, `exit 1, stderr:\n${r.stderr}`);
    assertOneLine(r.stderr, new RegExp(`redis 127\\.0\\.0\\.1:${redis.port}: .*(certificate|issuer)`));
  });

  void test('CLI: redis.ssl-ca-file that does not exist is a config error naming the key, exit 2', () => {
    const r = runCli(['validate', '--redis.ssl-ca-file', '/nonexistent/ca.pem']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /redis\.ssl-ca-file: .*\/nonexistent\/ca\.pem/);
  });

  void test('CLI: verification on, CA not trusted: one-line error naming the target, exit 1', () => {
    requireBuild();
    const r = runCli(['status', '-c', config], { env: { NODE_EXTRA_CA_CERTS: files.otherCaCert } });
    assert.equal(r.code, 1, `exit 1, stderr:\n${r.stderr}`);
    assertOneLine(r.stderr, new RegExp(`redis 127\\.0\\.0\\.1:${redis.port}: .*(certificate|issuer)`));
  });

  void test('CLI: use-ssl false against the TLS-only port: one-line error naming the target, exit 1', () => {
    requireBuild();
    const r = runCli(['status', '-c', config, '--redis.use-ssl', 'false'], {
      env: { NODE_EXTRA_CA_CERTS: files.caCert },
    });
    assert.equal(r.code, 1, `exit 1, stderr:\n${r.stderr}`);
    assertOneLine(r.stderr, new RegExp(`redis 127\\.0\\.0\\.1:${redis.port}: `));
  });
});

void describe('MySQL over TLS (private MariaDB, require_secure_transport)', () => {
  let db: PrivateMariaDB;
  const user = 'tls_user';
  const password = 'tls-pass-1';
  const database = 'tls_db';

  before(async () => {
    db = await PrivateMariaDB.create([
      `--ssl-ca=${files.caCert}`,
      `--ssl-cert=${files.serverCert}`,
      `--ssl-key=${files.serverKey}`,
    ]);
    // The helper checks readiness over plain TCP, so secure transport is required only once the
    // server is up and the account exists (the variable is dynamic in MariaDB >= 10.5.2).
    const c = await mysql.createConnection(db.address);
    try {
      await c.query(`CREATE DATABASE ${database}`);
      await c.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
      await c.query(`GRANT SELECT ON ${database}.* TO '${user}'@'127.0.0.1'`);
      // The account works over plain text before secure transport is required.
      const plain = await mysql.createConnection({ ...db.address, user, password, database });
      await plain.query('SELECT 1');
      await plain.end();
      await c.query('SET GLOBAL require_secure_transport = ON');
    } finally {
      await c.end();
    }
  });
  after(async () => {
    await db?.destroy();
  });

  const pool = (tls: Partial<MySQLTlsOptions> | undefined): ReturnType<typeof createMySQLPool> =>
    createMySQLPool({
      host: `127.0.0.1:${db.port}`,
      username: user,
      password,
      database,
      maxIdleConnections: 1,
      maxOpenConnections: 1,
      maxConnectionLifeTimeMs: 10_000,
      connectTimeoutMs: 3000,
      tls:
        tls === undefined
          ? undefined
          : { enabled: true, caFile: '', certFile: '', keyFile: '', insecureSkipVerify: false, ...tls },
    });

  void test('tls.enabled with ca-file connects over TLS (Ssl_cipher set)', async () => {
    const p = pool({ caFile: files.caCert });
    try {
      const [rows] = await p.query("SHOW STATUS LIKE 'Ssl_cipher'");
      const cipher = (rows as Array<{ Value: string }>)[0]?.Value ?? '';
      assert.notEqual(cipher, '', 'a TLS cipher is in use');
    } finally {
      await p.end();
    }
  });

  void test('tls disabled: the server refuses the plain-text connection', async () => {
    const p = pool(undefined);
    try {
      // MariaDB 10.11 answers a plain-text login under require_secure_transport with "Access denied"
      // (1045); the same account logs in over plain text before the variable is set (see before()).
      await assert.rejects(p.query('SELECT 1'), (err: Error & { code?: string }) => {
        assert.match(`${err.code} ${err.message}`, /ER_ACCESS_DENIED_ERROR|insecure transport/i);
        return true;
      });
    } finally {
      await p.end();
    }
  });

  void test('tls.enabled with the wrong CA: certificate verification fails', async () => {
    const p = pool({ caFile: files.otherCaCert });
    try {
      await assert.rejects(p.query('SELECT 1'), /certificate|issuer/i);
    } finally {
      await p.end();
    }
  });

  void test('tls.enabled with insecure-skip-verify and no CA connects', async () => {
    const p = pool({ insecureSkipVerify: true });
    try {
      const [rows] = await p.query("SHOW STATUS LIKE 'Ssl_cipher'");
      assert.notEqual((rows as Array<{ Value: string }>)[0]?.Value ?? '', '');
    } finally {
      await p.end();
    }
  });
});
