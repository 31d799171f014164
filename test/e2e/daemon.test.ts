/**
 * The daemon as an operator runs it: start, /healthz, SIGTERM, exit 0; unreachable MySQL or Redis
 * gives one clear line and exit 1 within startup-timeout; its log file never holds a password.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { Daemon, freePort, requireBuild, tempDir, waitHttp, writeConfig } from '../helpers/daemon.js';

const id = randomBytes(4).toString('hex');
const db = `iamw_e2e_${id}`;
const user = `iamw_e2e_${id}`;
const password = `Pw-${randomBytes(6).toString('hex')}`;
let root: mysql.Connection;

before(async () => {
  requireBuild();
  root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
  await root.query(`CREATE DATABASE \`${db}\``);
  await root.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
  await root.query(`GRANT SELECT ON \`${db}\`.* TO '${user}'@'127.0.0.1'`);
});

after(async () => {
  await root.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await root.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
  await root.end();
});

async function config(over: { mysqlHost?: string; redisPort?: number; logFile?: string } = {}) {
  const dir = tempDir();
  const port = await freePort();
  const logFile = over.logFile ?? join(dir, 'daemon.log');
  const file = writeConfig(
    dir,
    `health-check-address: 127.0.0.1:${port}
startup-timeout: 2s
shutdown-timeout: 5s
instance-id: e2e-${id}
lock:
  key-prefix: iamw-e2e-${id}
mysql:
  host: ${over.mysqlHost ?? '127.0.0.1:3306'}
  username: ${user}
  password: "\${E2E_MYSQL_PASSWORD}"
  database: ${db}
redis:
  host: 127.0.0.1
  port: ${over.redisPort ?? 6379}
  password: "\${E2E_REDIS_PASSWORD:-}"
log:
  level: debug
  output-paths: [stdout, ${logFile}]
`,
  );
  return { file, port, logFile };
}

test('start -> /healthz ok -> SIGTERM -> exit 0, and the log holds no password', async () => {
  const c = await config();
  const d = new Daemon(['-c', c.file], { env: { E2E_MYSQL_PASSWORD: password } });
  try {
    const health = await waitHttp(`http://127.0.0.1:${c.port}/healthz`, 10_000);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    await d.waitFor((l) => l.event === 'daemon.started');
    d.kill('SIGTERM');
    const exit = await d.exited;
    assert.equal(exit.code, 0, d.stderr);
    await d.waitFor((l) => l.event === 'daemon.stopped');
    const log = readFileSync(c.logFile, 'utf8');
    assert.match(log, /daemon\.started/);
    assert.ok(!log.includes(password), 'log file contains the MySQL password');
    assert.ok(!d.stdout.includes(password) && !d.stderr.includes(password));
  } finally {
    d.kill('SIGKILL');
  }
});

test('Redis unreachable: one clear line naming it, exit 1 within startup-timeout', async () => {
  const c = await config({ redisPort: 6390 });
  const t0 = Date.now();
  const d = new Daemon(['-c', c.file], {
    env: { E2E_MYSQL_PASSWORD: password, E2E_REDIS_PASSWORD: 'r3dis-pw' },
  });
  const exit = await d.exited;
  const ms = Date.now() - t0;
  assert.equal(exit.code, 1);
  assert.match(d.stderr, /redis 127\.0\.0\.1:6390: connect ECONNREFUSED/);
  assert.ok(ms < 2000 + 3000, `took ${ms} ms`);
  assert.ok(
    d.lines().some((l) => l.event === 'dependency.retry'),
    'each retry is logged',
  );
  const all = d.stdout + d.stderr + readFileSync(c.logFile, 'utf8');
  assert.ok(!all.includes('r3dis-pw') && !all.includes(password));
});

test('MySQL unreachable: one clear line naming it, exit 1 within startup-timeout', async () => {
  const c = await config({ mysqlHost: '127.0.0.1:3390' });
  const t0 = Date.now();
  const d = new Daemon(['-c', c.file], { env: { E2E_MYSQL_PASSWORD: password } });
  const exit = await d.exited;
  assert.equal(exit.code, 1);
  assert.match(d.stderr, /mysql 127\.0\.0\.1:3390: connect ECONNREFUSED/);
  assert.ok(Date.now() - t0 < 5000);
});

test('a wrong MySQL password is reported without the password', async () => {
  const c = await config();
  const d = new Daemon(['-c', c.file], { env: { E2E_MYSQL_PASSWORD: 'wrong-Secret-42' } });
  const exit = await d.exited;
  assert.equal(exit.code, 1);
  assert.match(d.stderr, /mysql 127\.0\.0\.1:3306: .*Access denied/);
  assert.ok(!(d.stdout + d.stderr).includes('wrong-Secret-42'));
});

test('SIGTERM while waiting for dependencies stops cleanly with exit 0', async () => {
  const c = await config({ redisPort: 6390 });
  const d = new Daemon(['-c', c.file, '--startup-timeout', '20s'], { env: { E2E_MYSQL_PASSWORD: password } });
  await d.waitFor((l) => l.event === 'dependency.retry');
  d.kill('SIGTERM');
  const exit = await d.exited;
  assert.equal(exit.code, 0, d.stderr);
});
