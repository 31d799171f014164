/**
 * `mysql.tls.*`: the keys validate (files must be readable, the keys must agree) and reach mysql2's
 * `ssl` option with the files' contents; a file that vanished by start-up names its key.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../internal/watcher/options/index.js';
import { ConfigError } from '../../internal/watcher/errors.js';
import { checkSchedule } from '../../internal/watcher/scheduler/spec.js';
import {
  MySQLTlsFileError,
  createMySQLPool,
  sslOptions,
  type MySQLTlsOptions,
} from '../../internal/pkg/mysql/mysql.js';
import type { Config } from '../../internal/watcher/config.js';

let dir: string;
let ca: string;
let cert: string;
let key: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iamw-tls-'));
  ca = join(dir, 'ca.pem');
  cert = join(dir, 'client-cert.pem');
  key = join(dir, 'client-key.pem');
  writeFileSync(ca, 'CA PEM');
  writeFileSync(cert, 'CERT PEM');
  writeFileSync(key, 'KEY PEM');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function load(flags: Record<string, string>): Config {
  return loadConfig({
    flags,
    env: {},
    cwd: dir,
    homeDir: dir,
    searchPath: [],
    hostname: 'h',
    pid: 1,
    watchers: [],
    checkSchedule,
  });
}

function problems(flags: Record<string, string>): string[] {
  try {
    load(flags);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.message}`);
    throw err;
  }
  return [];
}

void describe('mysql.tls options', () => {
  void it('default to off, and nothing is passed to mysql2', () => {
    const c = load({});
    assert.deepEqual(c.mysql.tls, {
      enabled: false,
      caFile: '',
      certFile: '',
      keyFile: '',
      insecureSkipVerify: false,
    });
    assert.equal(sslOptions(c.mysql.tls), undefined);
  });

  void it('validate and compile into Config.mysql.tls', () => {
    const c = load({
      'mysql.tls.enabled': 'true',
      'mysql.tls.ca-file': ca,
      'mysql.tls.cert-file': cert,
      'mysql.tls.key-file': key,
    });
    assert.deepEqual(c.mysql.tls, {
      enabled: true,
      caFile: ca,
      certFile: cert,
      keyFile: key,
      insecureSkipVerify: false,
    });
  });

  void it('a missing or unreadable file is a problem naming the key', () => {
    const missing = join(dir, 'nope.pem');
    assert.deepEqual(problems({ 'mysql.tls.enabled': 'true', 'mysql.tls.ca-file': missing }), [
      `mysql.tls.ca-file: cannot read ${JSON.stringify(missing)} (no such file)`,
    ]);
    assert.match(
      problems({ 'mysql.tls.enabled': 'true', 'mysql.tls.ca-file': dir })[0] ?? '',
      /^mysql\.tls\.ca-file: must be a file/,
    );
  });

  void it('files without enabled, or a certificate without its key, are refused', () => {
    assert.deepEqual(problems({ 'mysql.tls.ca-file': ca, 'mysql.tls.insecure-skip-verify': 'true' }), [
      'mysql.tls.ca-file: is set but mysql.tls.enabled is false (set it to true to use TLS)',
      'mysql.tls.insecure-skip-verify: is set but mysql.tls.enabled is false (set it to true to use TLS)',
    ]);
    assert.deepEqual(problems({ 'mysql.tls.enabled': 'true', 'mysql.tls.cert-file': cert }), [
      'mysql.tls.key-file: must be set together with mysql.tls.cert-file',
    ]);
    assert.deepEqual(problems({ 'mysql.tls.enabled': 'true', 'mysql.tls.key-file': key }), [
      'mysql.tls.cert-file: must be set together with mysql.tls.key-file',
    ]);
  });
});

void describe("mysql2's ssl option", () => {
  const tls = (o: Partial<MySQLTlsOptions>): MySQLTlsOptions => ({
    enabled: true,
    caFile: '',
    certFile: '',
    keyFile: '',
    insecureSkipVerify: false,
    ...o,
  });

  void it('holds the files contents and verifies the server unless told not to', () => {
    assert.deepEqual(sslOptions(tls({ caFile: ca, certFile: cert, keyFile: key })), {
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
      rejectUnauthorized: true,
    });
    assert.deepEqual(sslOptions(tls({ insecureSkipVerify: true })), { rejectUnauthorized: false });
  });

  void it('reaches the pool created from the config', async () => {
    const c = load({ 'mysql.tls.enabled': 'true', 'mysql.tls.ca-file': ca });
    const pool = createMySQLPool(c.mysql);
    try {
      // mysql2 keeps the resolved connection options on the callback pool.
      const inner = pool.pool as unknown as { config: { connectionConfig: { ssl: unknown } } };
      assert.deepEqual(inner.config.connectionConfig.ssl, { ca: 'CA PEM', rejectUnauthorized: true });
    } finally {
      await pool.end();
    }
  });

  void it('a file that cannot be read at start-up names the setting', () => {
    assert.throws(
      () => sslOptions(tls({ keyFile: join(dir, 'gone.pem'), certFile: cert })),
      (err: unknown) =>
        err instanceof MySQLTlsFileError && err.option === 'keyFile' && /ENOENT/.test(err.message),
    );
  });
});
