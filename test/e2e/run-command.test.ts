/**
 * `iam-watcher run <watcher>` as an operator uses it: the built CLI against a seeded IAM database and
 * the real Redis. It prints one JSON line of counts on stdout (logs go to stderr here) and exits 0 when
 * the run was ok, 2 for an unknown watcher, 1 otherwise. Seeded times are relative to the database
 * clock, with boundary rows 10 minutes either side of the cutoff (the clock moves while a test runs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import type { Redis } from 'ioredis';
import { createRedisCoordinator } from '../../internal/watcher/lock/index.js';
import { requireBuild, runCli, tempDir, writeConfig } from '../helpers/daemon.js';
import type { CliResult } from '../helpers/daemon.js';
import { createTestDatabase, serverOptions } from '../helpers/mysql.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { deletePrefix, randomPrefix, testRedis } from '../helpers/redis.js';

const DAY = 86_400;
const MARGIN = 600;
const INACTIVE_DAYS = 30;
const RESERVE_DAYS = 180;

/** name, seconds since last login (null = never), seconds since creation, isAdmin, status. */
const USERS: [string, number | null, number, number, number][] = [
  ['old', 40 * DAY, 900 * DAY, 0, 1],
  ['recent', 10 * DAY, 900 * DAY, 0, 1],
  ['edge-old', INACTIVE_DAYS * DAY + MARGIN, 900 * DAY, 0, 1],
  ['edge-new', INACTIVE_DAYS * DAY - MARGIN, 900 * DAY, 0, 1],
  ['never-old', null, 40 * DAY, 0, 1],
  ['never-new', null, 10 * DAY, 0, 1],
  ['admin-old', 40 * DAY, 900 * DAY, 1, 1],
  ['already-disabled', 40 * DAY, 900 * DAY, 0, 0],
];
const WOULD_DISABLE = ['edge-old', 'never-old', 'old'];

/** id, seconds since the policy was deleted. */
const AUDIT: [number, number][] = [
  [7, 400 * DAY],
  [3, RESERVE_DAYS * DAY + MARGIN],
  [5, RESERVE_DAYS * DAY - MARGIN],
  [1, 10 * DAY],
];
const KEPT_AUDIT = [1, 5];

async function seed(pool: Pool): Promise<void> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
  const now = Number(rows[0]?.['now']);
  for (const [name, logined, created, isAdmin, status] of USERS) {
    await pool.query(
      `INSERT INTO user (name, nickname, password, email, isAdmin, status, loginedAt, createdAt)
       VALUES (?, ?, 'x', 'x@example.com', ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))`,
      [name, name, isAdmin, status, logined === null ? null : now - logined, now - created],
    );
  }
  for (const [id, ago] of AUDIT) {
    await pool.query(
      `INSERT INTO policy_audit (id, name, username, policyShadow, deletedAt)
       VALUES (?, ?, 'old', '{}', FROM_UNIXTIME(?))`,
      [id, `p${id}`, now - ago],
    );
  }
}

/** What the watchers may change: disabled user names and remaining audit ids, sorted. */
async function state(pool: Pool): Promise<{ disabled: string[]; audit: number[] }> {
  const [users] = await pool.query<RowDataPacket[]>('SELECT name FROM user WHERE status = 0 ORDER BY name');
  const [audit] = await pool.query<RowDataPacket[]>('SELECT id FROM policy_audit ORDER BY id');
  return {
    disabled: users.map((u) => String(u['name'])),
    audit: audit.map((a) => Number(a['id'])),
  };
}

const INITIAL = { disabled: ['already-disabled'], audit: AUDIT.map(([id]) => id).sort((a, b) => a - b) };

interface Printed {
  watcher: string;
  result: string;
  counts: Record<string, unknown>;
  durationMs: number;
  error?: string;
}

/** The one JSON line `run` prints on stdout. */
function printed(r: CliResult): Printed {
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `stdout should be one JSON line:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(lines[0] ?? '') as Printed;
}

/** stderr log lines of the run, parsed. */
function logLines(r: CliResult): Array<Record<string, unknown>> {
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('iam-watcher run <watcher>', () => {
  const dbs: TestDatabase[] = [];
  const prefixes: string[] = [];
  let redis: Redis;

  before(() => {
    requireBuild();
    redis = testRedis();
  });

  after(async () => {
    for (const db of dbs) await db.drop();
    for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
  });

  async function seededDb(): Promise<TestDatabase> {
    const db = await createTestDatabase();
    dbs.push(db);
    await seed(db.pool);
    return db;
  }

  /** A config file on `database` with a lock prefix of its own (its keys are removed afterwards). */
  function config(database: string): { file: string; prefix: string } {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const server = serverOptions();
    const file = writeConfig(
      tempDir('iamw-run-'),
      `instance-id: run-e2e
lock:
  key-prefix: "${prefix}"
mysql:
  host: ${String(server.host)}:${String(server.port)}
  username: ${String(server.user)}
  password: "\${E2E_MYSQL_PASSWORD:-}"
  database: ${database}
redis:
  host: 127.0.0.1
  port: 6379
log:
  level: info
  output-paths: [stderr]
watcher:
  task:
    max-inactive-days: ${INACTIVE_DAYS}
  clean:
    max-reserve-days: ${RESERVE_DAYS}
`,
    );
    return { file, prefix };
  }

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    E2E_MYSQL_PASSWORD: String(serverOptions().password ?? ''),
    ...extra,
  });

  test('run clean deletes the old audit rows, prints its counts on stdout, exit 0; a second run deletes none', async () => {
    const db = await seededDb();
    const { file } = config(db.name);
    const r = runCli(['run', 'clean', '-c', file], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = printed(r);
    assert.equal(out.watcher, 'clean');
    assert.equal(out.result, 'ok');
    assert.equal(out.counts['deleted'], AUDIT.length - KEPT_AUDIT.length);
    assert.equal(out.counts['dryRun'], false);
    assert.equal(typeof out.durationMs, 'number');
    assert.deepEqual(await state(db.pool), { ...INITIAL, audit: KEPT_AUDIT });

    const again = runCli(['run', 'clean', '-c', file], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(printed(again).counts['deleted'], 0);
    assert.deepEqual(await state(db.pool), { ...INITIAL, audit: KEPT_AUDIT });
  });

  test('run task --dry-run changes nothing, reports the would-be count and logs the names', async () => {
    const db = await seededDb();
    const { file } = config(db.name);
    const r = runCli(['run', 'task', '--dry-run', '-c', file], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = printed(r);
    assert.equal(out.result, 'ok');
    assert.equal(out.counts['disabled'], WOULD_DISABLE.length);
    assert.equal(out.counts['dryRun'], true);
    assert.deepEqual(await state(db.pool), INITIAL);
    const named = logLines(r)
      .filter((l) => l['dryRun'] === true && Array.isArray(l['names']))
      .flatMap((l) => l['names'] as string[]);
    assert.deepEqual(named.sort(), WOULD_DISABLE);
  });

  test('run nosuch: exit 2, naming the known watchers, nothing on stdout', () => {
    const r = runCli(['run', 'nosuch']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown watcher "nosuch"/);
    for (const name of ['task', 'clean', 'cleansecret']) assert.match(r.stderr, new RegExp(`\\b${name}\\b`));
    assert.equal(r.stdout, '');
  });

  test('a failing run (database without the IAM tables): exit 1, result failed, the error names the table', async () => {
    const empty = `iamw_test_empty_${Math.random().toString(16).slice(2, 10)}`;
    const admin = await mysql.createConnection(serverOptions());
    try {
      await admin.query(`CREATE DATABASE \`${empty}\``);
      const { file } = config(empty);
      const r = runCli(['run', 'task', '-c', file], { env: env() });
      assert.equal(r.code, 1, r.stderr);
      const out = printed(r);
      assert.equal(out.result, 'failed');
      assert.match(String(out.error), new RegExp(`${empty}\\.user.*doesn't exist`));
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace for the operator');
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS \`${empty}\``);
      await admin.end();
    }
  });

  test('TZ=America/New_York and TZ=Asia/Shanghai give the same result on the same data', async () => {
    const results = [];
    for (const tz of ['America/New_York', 'Asia/Shanghai']) {
      const db = await seededDb();
      const { file } = config(db.name);
      const task = runCli(['run', 'task', '-c', file], { env: env({ TZ: tz }) });
      assert.equal(task.code, 0, task.stderr);
      const clean = runCli(['run', 'clean', '-c', file], { env: env({ TZ: tz }) });
      assert.equal(clean.code, 0, clean.stderr);
      results.push({
        tz,
        disabled: printed(task).counts['disabled'],
        deleted: printed(clean).counts['deleted'],
        state: await state(db.pool),
      });
    }
    const [ny, sh] = results;
    assert.deepEqual({ ...ny, tz: '' }, { ...sh, tz: '' });
    assert.deepEqual(ny?.state, {
      disabled: ['already-disabled', ...WOULD_DISABLE].sort(),
      audit: KEPT_AUDIT,
    });
  });

  test('while another instance holds the running lease: result skipped, exit 1 (the run did not happen), nothing changes', async () => {
    const db = await seededDb();
    const { file, prefix } = config(db.name);
    const holderRedis = testRedis();
    const holder = createRedisCoordinator({
      redis: holderRedis,
      keyPrefix: prefix,
      leaseMs: 30_000,
      instanceId: 'other-instance',
    });
    const lease = await holder.acquireLease('task', { kind: 'running' });
    assert.equal(lease.outcome, 'acquired');
    try {
      const r = runCli(['run', 'task', '-c', file], { env: env() });
      assert.equal(r.code, 1, r.stderr);
      const out = printed(r);
      assert.equal(out.result, 'skipped');
      assert.match(String(out.error), /running on another instance/);
      assert.deepEqual(await state(db.pool), INITIAL);
    } finally {
      if (lease.outcome === 'acquired') await lease.lease.release();
      await holder.close();
      holderRedis.disconnect();
    }
    // Once the lease is free the same command runs.
    const r = runCli(['run', 'task', '-c', file], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(printed(r).counts['disabled'], WOULD_DISABLE.length);
  });
});
