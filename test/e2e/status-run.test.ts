/**
 * The example status watcher `userinit` through the built CLI: `run userinit --dry-run` lists the rows
 * it would take and changes nothing; `run userinit` initialises the users the rows name (the
 * handler's real work on the database), sets them `normal`, and a row naming no user `failed` after
 * max-attempts; `status` then shows the cluster-wide counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import { ROOT, requireBuild, runCli, tempDir, writeConfig, type CliResult } from '../helpers/daemon.js';
import { createTestDatabase, serverOptions, type TestDatabase } from '../helpers/mysql.js';
import { deletePrefix, randomPrefix, testRedis } from '../helpers/redis.js';

let db: TestDatabase;
const prefix = randomPrefix();
let file = '';
const env = { E2E_MYSQL_PASSWORD: String(serverOptions().password ?? '') };

before(async () => {
  requireBuild();
  db = await createTestDatabase();
  await db.pool.query(readFileSync(`${ROOT}/deploy/sql/user-init.sql`, 'utf8'));
  for (const name of ['alice', 'bob']) {
    await db.pool.query(
      "INSERT INTO user (name, nickname, password, email) VALUES (?, ?, 'x', 'x@example.com')",
      [name, name],
    );
  }
  await db.pool.query("INSERT INTO user_init (id, userName) VALUES (1, 'alice'), (2, 'bob'), (3, 'ghost')");
  const server = serverOptions();
  file = writeConfig(
    tempDir('iamw-status-run-'),
    `instance-id: status-run-e2e
lock:
  key-prefix: "${prefix}"
mysql:
  host: ${String(server.host)}:${String(server.port)}
  username: ${String(server.user)}
  password: "\${E2E_MYSQL_PASSWORD:-}"
  database: ${db.name}
redis:
  host: 127.0.0.1
  port: 6379
log:
  level: info
  output-paths: [stderr]
watcher:
  userinit:
    enabled: true
    max-attempts: 1
`,
  );
});

after(async () => {
  await db.drop();
  const r = testRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
});

function printed(r: CliResult): { result: string; counts: Record<string, unknown> } {
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one JSON line:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(lines[0] ?? '') as { result: string; counts: Record<string, unknown> };
}

async function rows(): Promise<Array<{ id: number; status: string; userId: number | null }>> {
  const [r] = await db.pool.query<RowDataPacket[]>('SELECT id, status, userId FROM user_init ORDER BY id');
  return r.map((x) => ({
    id: Number(x.id),
    status: String(x.status),
    userId: x.userId === null ? null : Number(x.userId),
  }));
}

test('run userinit --dry-run lists the rows it would take and changes nothing', async () => {
  const r = runCli(['run', 'userinit', '--dry-run', '-c', file], { env });
  assert.equal(r.code, 0, r.stderr);
  const p = printed(r);
  assert.deepEqual(p.counts, { dryRun: true, rows: 3, keys: '1,2,3' });
  assert.ok((await rows()).every((x) => x.status === 'pending' && x.userId === null));
});

test('run userinit initialises the users, sets normal, and failed where no user exists; status shows the counts', async () => {
  const r = runCli(['run', 'userinit', '-c', file], { env });
  assert.equal(r.code, 1, `a failed row makes the run failed:\n${r.stderr}`);
  const p = printed(r);
  assert.equal(p.counts.done, 2);
  assert.equal(p.counts.failed, 1);
  const [users] = await db.pool.query<RowDataPacket[]>(
    "SELECT id, name FROM user WHERE name IN ('alice', 'bob') ORDER BY name",
  );
  const after = await rows();
  assert.deepEqual(after, [
    { id: 1, status: 'normal', userId: Number(users[0]?.id) },
    { id: 2, status: 'normal', userId: Number(users[1]?.id) },
    { id: 3, status: 'failed', userId: null },
  ]);
  assert.match(r.stderr, /"event":"status\.row-failed".*no IAM user named \\"ghost\\"/);
  const again = runCli(['run', 'userinit', '-c', file], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(printed(again).counts.done, 0, 'nothing left to do');
  const s = runCli(['status', '--json', '-c', file], { env });
  assert.equal(s.code, 0, s.stderr);
  const st = JSON.parse(s.stdout) as { watchers: Array<{ watcher: string; rows?: Record<string, string> }> };
  const u = st.watchers.find((w) => w.watcher === 'userinit');
  assert.equal(u?.rows?.done, '2');
  assert.equal(u?.rows?.failed, '1');
});
