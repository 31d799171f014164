/**
 * `notify.webhook-url` as an operator sets it: the built daemon posts one JSON per failed run to a
 * receiver on 127.0.0.1, counts the posts in /metrics, and no secret reaches the receiver or the log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { Daemon, freePort, requireBuild, tempDir, waitHttp, writeConfig } from '../helpers/daemon.js';

const TOKEN = 'e2e-hook-token-7c1d';
let db: TestDatabase;
let server: Server;
const posts: string[] = [];

before(async () => {
  requireBuild();
  db = await createTestDatabase();
  // Without its table every clean run fails, with an error that names the database.
  await db.pool.query('DROP TABLE policy_audit');
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      if (req.url === `/hook/${TOKEN}`) posts.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

after(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await db?.drop();
});

test('a failing watcher: one webhook post per failed run, counted, no secret in body or log', async () => {
  const port = (server.address() as AddressInfo).port;
  const health = await freePort();
  // The database's name is made a secret here, so the run's error quotes a secret.
  const file = writeConfig(
    tempDir('iamw-notify-'),
    `
health-check-address: 127.0.0.1:${health}
shutdown-timeout: 10s
instance-id: notify-e2e
lock:
  backend: local
mysql:
  host: 127.0.0.1:3306
  username: root
  database: ${db.name}
redis:
  password: ${db.name}
notify:
  webhook-url: http://127.0.0.1:${port}/hook/${TOKEN}
  webhook-timeout: 2s
watcher:
  task:
    enabled: false
  clean:
    schedule: '@every 1s'
`,
  );
  const daemon = new Daemon(['-c', file]);
  try {
    await daemon.waitFor((l) => l.event === 'daemon.started', 15_000);
    await daemon.waitFor(
      () => daemon.lines().filter((l) => l.event === 'run.finished' && l.result === 'failed').length >= 3,
      15_000,
    );
    const metrics = await waitHttp(`http://127.0.0.1:${health}/metrics`);
    assert.match(metrics.body, /^iam_watcher_webhook_posts_total\{outcome="sent"\} \d+/m);
    assert.match(metrics.body, /^iam_watcher_webhook_posts_total\{outcome="dropped"\} 0$/m);
  } finally {
    daemon.kill('SIGTERM');
  }
  const exit = await daemon.exited;
  assert.equal(exit.code, 0, daemon.stderr);
  const failed = daemon.lines().filter((l) => l.event === 'run.finished' && l.result === 'failed');
  assert.ok(failed.length >= 3);
  // Shutdown flushes the queue: every failed run has its post, and nothing else was posted.
  assert.equal(posts.length, failed.length, `${posts.length} posts for ${failed.length} failed runs`);
  const slots = new Set(failed.map((l) => l.slot));
  for (const body of posts) {
    assert.ok(!body.includes(db.name), `the secret reached the receiver: ${body}`);
    assert.ok(!body.includes(TOKEN), 'the URL token reached the receiver');
    const e = JSON.parse(body) as Record<string, unknown>;
    assert.equal(e.source, 'iam-watcher');
    assert.equal(e.event, 'run.failed');
    assert.equal(e.watcher, 'clean');
    assert.equal(e.instance, 'notify-e2e');
    assert.ok(slots.has(e.slot), `a post for a slot that did not fail: ${String(e.slot)}`);
    assert.match(String(e.error), /\*\*\*/);
  }
  assert.equal(new Set(posts.map((b) => (JSON.parse(b) as { slot: string }).slot)).size, posts.length);
  assert.ok(!daemon.stdout.includes(TOKEN) && !daemon.stderr.includes(TOKEN), 'the URL reached the log');
});
