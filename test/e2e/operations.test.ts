/**
 * Operating the built daemon against the real servers: `/readyz` follows its own Redis going away
 * and coming back, `/metrics` counts known runs, `status` shows them, SIGHUP applies watcher keys
 * (logging what changed), refuses an invalid file, and does not interrupt a run in flight. MySQL is
 * used as the least-privilege account of deploy/mysql-grants.sql.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { createRestrictedUser, type RestrictedUser } from '../helpers/grants.js';
import { CLOSED_PORT } from '../helpers/redis.js';
import { Daemon, freePort, requireBuild, runCli, tempDir, writeConfig } from '../helpers/daemon.js';

const DAY = 86_400;
const id = randomBytes(4).toString('hex');
const INSTANCE = `ops-${id}`;
const OLD_ROWS = 7; // deletedAt 400 days ago: gone with max-reserve-days 180
const RECENT_ROWS = 4; // deletedAt 10 days ago: gone only once max-reserve-days drops below 10
const BULK_ROWS = 3000; // deleted one per batch, to keep a run in flight

/** A dedicated Redis on its own port, so stopping it never touches the shared 6379. */
class RedisChild {
  child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const client = new Redis({
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      for (let i = 0; ; i++) {
        try {
          if (client.status !== 'ready') await client.connect();
          await client.ping();
          return;
        } catch {
          if (i > 100) throw new Error(`redis-server on ${this.port} did not start`);
          client.disconnect();
          await sleep(50);
        }
      }
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((res) => c.once('exit', res));
    c.kill('SIGKILL');
    await exited;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A log line's time (ms since the epoch). */
const at = (l: Record<string, unknown>): number => Date.parse(String(l.time));

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Polls until `pred` holds for the answer of `url`. */
async function until(url: string, pred: (r: { status: number; body: string }) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await get(url);
      if (pred(r)) return r;
      last = `${r.status} ${r.body}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`${url}: condition not met within ${timeoutMs} ms; last: ${last}`);
    await sleep(100);
  }
}

function metric(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

void describe('operations: readyz, metrics, status, reload', () => {
  let db: TestDatabase;
  let account: RestrictedUser;
  let redis: RedisChild;
  let daemon: Daemon;
  let dir: string;
  let file: string;
  let base: string;
  let env: Record<string, string>;

  const yaml = (o: { reserveDays: number; schedule: string; batchSize: number; redisTimeout: string }) => `
health-check-address: 127.0.0.1:${base.split(':').pop()}
startup-timeout: 5s
shutdown-timeout: 20s
instance-id: ${INSTANCE}
lock:
  key-prefix: iamw-ops-${id}
  lease: 5s
mysql:
  host: 127.0.0.1:3306
  username: ${account.user}
  password: "\${E2E_MYSQL_PASSWORD}"
  database: ${db.name}
redis:
  host: 127.0.0.1
  port: ${redis.port}
  timeout: ${o.redisTimeout}
log:
  level: debug
watcher:
  task:
    enabled: false
  clean:
    schedule: "${o.schedule}"
    max-reserve-days: ${o.reserveDays}
    batch-size: ${o.batchSize}
`;

  before(async () => {
    requireBuild();
    db = await createTestDatabase();
    const now = Math.floor(Date.now() / 1000);
    const rows = [
      ...Array.from({ length: OLD_ROWS }, (_, i) => [i + 1, now - 400 * DAY]),
      ...Array.from({ length: RECENT_ROWS }, (_, i) => [OLD_ROWS + i + 1, now - 10 * DAY]),
    ];
    await db.pool.query(
      `INSERT INTO policy_audit (id, name, username, policyShadow, deletedAt) VALUES ${rows.map(() => "(?, 'p', 'u', '{}', FROM_UNIXTIME(?))").join(', ')}`,
      rows.flat(),
    );
    account = await createRestrictedUser(db.name);
    redis = new RedisChild(await freePort());
    await redis.start();
    base = `http://127.0.0.1:${await freePort()}`;
    dir = tempDir('iamw-ops-');
    env = { E2E_MYSQL_PASSWORD: account.password };
    file = writeConfig(
      dir,
      yaml({ reserveDays: 180, schedule: '@every 1s', batchSize: 1000, redisTimeout: '1s' }),
    );
    daemon = new Daemon(['-c', file], { env });
    await daemon.waitFor((l) => l.event === 'daemon.started', 15_000);
  });

  after(async () => {
    daemon?.kill('SIGTERM');
    const exit = await Promise.race([daemon?.exited, sleep(25_000).then(() => undefined)]);
    daemon?.kill('SIGKILL');
    await redis?.stop();
    await account?.drop();
    await db?.drop();
    assert.equal(exit?.code, 0, `daemon did not stop cleanly:\n${daemon?.stderr}`);
    assert.ok(!daemon.stdout.includes(account.password), 'the log holds the MySQL password');
  });

  void it('/metrics counts the runs and the rows they deleted', async () => {
    const first = await daemon.waitFor((l) => l.event === 'run.finished' && l.watcher === 'clean', 10_000);
    assert.equal(first.result, 'ok', JSON.stringify(first));
    assert.equal(first.deleted, OLD_ROWS);
    // two more runs, so the counter is at least 3
    await daemon.waitFor(() => daemon.lines().filter((x) => x.event === 'run.finished').length >= 3, 10_000);
    const m = await get(`${base}/metrics`);
    assert.equal(m.status, 200);
    const runs = metric(m.body, 'iam_watcher_runs_total', 'watcher="clean",result="ok"');
    assert.ok(runs !== undefined && runs >= 3, `runs_total ${runs}`);
    assert.equal(metric(m.body, 'iam_watcher_runs_total', 'watcher="clean",result="failed"'), 0);
    assert.equal(
      metric(m.body, 'iam_watcher_rows_affected_total', 'watcher="clean",action="deleted"'),
      OLD_ROWS,
    );
    const last = metric(m.body, 'iam_watcher_last_success_timestamp_seconds', 'watcher="clean"');
    assert.ok(last !== undefined && Math.abs(Date.now() / 1000 - last) < 10, `last success ${last}`);
    // The schedule's slots around now, computed when scraped (@every 1s here: one second apart).
    const next = metric(m.body, 'iam_watcher_next_slot_timestamp_seconds', 'watcher="clean"');
    const prev = metric(m.body, 'iam_watcher_previous_slot_timestamp_seconds', 'watcher="clean"');
    assert.ok(next !== undefined && prev !== undefined, 'slot gauges');
    assert.equal(next - prev, 1);
    assert.ok(prev <= Date.now() / 1000 && Math.abs(next - Date.now() / 1000) < 5, `${prev} ${next}`);
    assert.match(m.body, /^iam_watcher_run_duration_seconds_count\{watcher="clean"\} \d+/m);
    assert.match(m.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(m.body, /^nodejs_heap_size_used_bytes \d/m);
  });

  void it('status shows the last run; --json parses', () => {
    const text = runCli(['status', '-c', file], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^WATCHER\s+LAST SLOT/m);
    assert.match(text.stdout, new RegExp(`^clean\\s+\\S+Z\\s+${INSTANCE}\\s+ok\\s`, 'm'));
    const json = runCli(['status', '-c', file, '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout) as {
      watchers: Array<{
        watcher: string;
        lastRun: { instance: string; result: string; counts: Record<string, unknown> } | null;
        nextSlot: string;
      }>;
    };
    assert.deepEqual(
      s.watchers.map((w) => w.watcher),
      ['clean'],
    );
    const clean = s.watchers[0];
    assert.equal(clean?.lastRun?.instance, INSTANCE);
    assert.equal(clean?.lastRun?.result, 'ok');
    assert.equal(typeof clean?.lastRun?.counts['deleted'], 'number');
    const next = Date.parse(clean?.nextSlot ?? '');
    assert.ok(next > Date.now() - 1000 && next < Date.now() + 3000, clean?.nextSlot);
    assert.ok(!(text.stdout + json.stdout + text.stderr).includes(account.password));
  });

  void it('status: Redis unreachable is one line and exit 1', () => {
    const r = runCli(['status', '-c', file, '--redis.port', String(CLOSED_PORT)], { env });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^iam-watcher: cannot read the cluster status: redis 127\.0\.0\.1:\d+: .*ECONNREFUSED.*\n$/,
    );
  });

  void it('SIGHUP applies watcher keys, lists what changed, and reports keys that need a restart', async () => {
    writeConfig(dir, yaml({ reserveDays: 5, schedule: '@every 2s', batchSize: 1000, redisTimeout: '2s' }));
    const mark = Date.now();
    daemon.kill('SIGHUP');
    const reloaded = await daemon.waitFor((l) => l.event === 'config.reloaded', 5_000);
    assert.deepEqual(reloaded.changed, [
      { key: 'watcher.clean.schedule', from: '@every 1s', to: '@every 2s' },
      { key: 'watcher.clean.max-reserve-days', from: '180', to: '5' },
    ]);
    assert.deepEqual(reloaded.needsRestart, [{ key: 'redis.timeout', from: '1s', to: '2s' }]);
    const run = await daemon.waitFor(
      (l) => at(l) > mark && l.event === 'run.finished' && l.deleted === RECENT_ROWS,
      8_000,
    );
    assert.equal(run.result, 'ok');
    assert.equal(new Date(String(run.slot)).getTime() % 2000, 0, 'the new schedule (@every 2s) is in force');
  });

  void it('SIGHUP with an invalid file is refused, and the daemon keeps running the old config', async () => {
    writeConfig(
      dir,
      `${yaml({ reserveDays: 5, schedule: '@every 2s', batchSize: 1000, redisTimeout: '2s' })}    max-reserve-dayz: 3\n`.replace(
        'max-reserve-days: 5',
        'max-reserve-days: -1',
      ),
    );
    const mark = Date.now();
    daemon.kill('SIGHUP');
    const refused = await daemon.waitFor((l) => l.event === 'config.reload-refused', 5_000);
    const problems = refused.problems as string[];
    assert.ok(
      problems.some((p) =>
        /^watcher\.clean\.max-reserve-days: must not be negative, got -1 \(.*iam-watcher\.yaml:\d+\)$/.test(
          p,
        ),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('watcher.clean.max-reserve-dayz: unknown key')),
      problems.join('\n'),
    );
    const next = await daemon.waitFor((l) => at(l) > mark && l.event === 'run.finished', 6_000);
    assert.equal(next.result, 'ok');
    assert.equal((await get(`${base}/readyz`)).status, 200);
  });

  void it('a reload during a run in flight does not interrupt it', async () => {
    writeConfig(dir, yaml({ reserveDays: 5, schedule: '@every 1s', batchSize: 1, redisTimeout: '2s' }));
    daemon.kill('SIGHUP');
    await daemon.waitFor(
      (l) => l.event === 'config.reloaded' && Array.isArray(l.changed) && l.changed.length === 2,
      5_000,
    );
    const now = Math.floor(Date.now() / 1000);
    const values = Array.from(
      { length: BULK_ROWS },
      (_, i) => `(${100_000 + i}, 'b', 'u', '{}', FROM_UNIXTIME(${now - 400 * DAY}))`,
    );
    await db.pool.query(
      `INSERT INTO policy_audit (id, name, username, policyShadow, deletedAt) VALUES ${values.join(',')}`,
    );
    const inserted = Date.now();
    const started = await daemon.waitFor(
      (l) => l.event === 'run.started' && l.watcher === 'clean' && at(l) > inserted,
      5_000,
    );
    writeConfig(dir, yaml({ reserveDays: 6, schedule: '@every 1s', batchSize: 1, redisTimeout: '2s' }));
    daemon.kill('SIGHUP');
    const reloaded = await daemon.waitFor((l) => l.event === 'config.reloaded' && at(l) > inserted, 5_000);
    // status shows who runs it now (while the 3000 one-row batches take their time)
    const during = runCli(['status', '-c', file, '--json'], { env });
    const statusDone = Date.now();
    const holder = (
      JSON.parse(during.stdout) as { watchers: Array<{ running: { instance: string } | null }> }
    ).watchers[0]?.running;
    const finished = await daemon.waitFor(
      (l) => l.event === 'run.finished' && l.slot === started.slot,
      60_000,
    );
    assert.ok(at(reloaded) < at(finished), 'the reload came while the run was in flight');
    assert.equal(finished.result, 'ok');
    assert.equal(finished.deleted, BULK_ROWS);
    // The status call ended before the run did (3000 one-row transactions take seconds).
    assert.ok(
      at(finished) > statusDone,
      `the run ended before status read it (${String(finished.durationMs)} ms)`,
    );
    assert.equal(holder?.instance, INSTANCE, during.stdout);
  });

  void it('/readyz: 200 when up, 503 naming redis when its Redis stops, 200 when it returns', async () => {
    await until(`${base}/readyz`, (r) => r.status === 200, 5_000);
    await redis.stop();
    const down = await until(`${base}/readyz`, (r) => r.status === 503, 10_000);
    const body = JSON.parse(down.body) as { ready: boolean; checks: Record<string, string> };
    assert.equal(body.ready, false);
    assert.notEqual(body.checks['redis'], 'ok');
    assert.equal(body.checks['mysql'], 'ok');
    await redis.start();
    await until(`${base}/readyz`, (r) => r.status === 200, 15_000);
  });
});
