/**
 * The Go iam-watcher's shipped config file (reproduced in test/fixtures/go/iam-watcher.yaml) with the
 * IAM installer's environment: `validate` maps its values, the daemon starts with it against the
 * local MariaDB and Redis, logs to the configured file and stdout, names the ignored keys once, runs
 * both watchers, answers /healthz, reopens its log file on SIGUSR1 without losing a line, and stops.
 */
import { installerEnv } from '../helpers/go-config.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Daemon, freePort, requireBuild, runCli, tempDir, waitHttp } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { closeAll, deletePrefix, testRedis } from '../helpers/redis.js';

const GO_FILE = resolve(import.meta.dirname, '../fixtures/go/iam-watcher.yaml');
const PREFIX = `iamw-go-${randomBytes(4).toString('hex')}`;

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

void describe('the Go iam-watcher config file', () => {
  let db: TestDatabase;
  let dir: string;
  let logDir: string;

  before(async () => {
    requireBuild();
    db = await createTestDatabase();
    dir = tempDir('iamw-go-');
    logDir = join(dir, 'log');
    mkdirSync(logDir);
  });

  after(async () => {
    await db.drop();
    const redis = testRedis(6379, '127.0.0.1', { db: 1 });
    try {
      await deletePrefix(redis, PREFIX);
    } finally {
      closeAll(redis);
    }
  });

  void it('validate: exit 0, the Go values mapped, --mysql.log-mode accepted', () => {
    const env = installerEnv(db.name, logDir);
    const r = runCli(['validate', '--config', GO_FILE, '--mysql.log-mode', '2'], { env });
    assert.equal(r.code, 0, r.stderr);
    const view = parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.equal(view['mysql']?.['log-level'], 2, 'the flag wins over the file');
    assert.equal(view['mysql']?.['host'], '127.0.0.1:3306');
    assert.equal(view['redis']?.['timeout'], '5s');
    assert.equal(view['redis']?.['database'], 1);
    assert.equal(view['log']?.['level'], 'debug');
    assert.equal(view['log']?.['name'], 'watcher');
    assert.deepEqual(view['log']?.['output-paths'], [join(logDir, 'iam-watcher.log'), 'stdout']);
    const short = runCli(['validate', '-c', GO_FILE], { env });
    assert.equal(short.code, 0, short.stderr);
  });

  void it('a bad Go value is exit 2 naming the key', () => {
    const env = installerEnv(db.name, logDir);
    const cases: Array<[string, string]> = [
      ['IAM_WATCHER_REDIS_TIMEOUT', 'abc'],
      ['IAM_WATCHER_LOG_LEVEL', 'loud'],
      ['IAM_WATCHER_LOG_OUTPUT_PATHS', join(dir, 'missing', 'w.log')],
    ];
    for (const [name, value] of cases) {
      const r = runCli(['validate', '-c', GO_FILE], { env: { ...env, [name]: value } });
      const key = name.slice('IAM_WATCHER_'.length).toLowerCase().replace('_', '.').replace(/_/g, '-');
      assert.equal(r.code, 2, `${name}=${value}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(key.replace('.', '\\.')), `${name}=${value}`);
    }
  });

  void it('starts, logs to the file and stdout, runs task and clean, reopens on SIGUSR1, stops', async () => {
    const port = await freePort();
    const logFile = join(logDir, 'iam-watcher.log');
    const env = {
      ...installerEnv(db.name, logDir),
      // The operator's own overrides: a test port and key prefix, a schedule that comes soon,
      // JSON lines to read back.
      IAM_WATCHER_HEALTH_CHECK_ADDRESS: `127.0.0.1:${port}`,
      IAM_WATCHER_LOCK_KEY_PREFIX: PREFIX,
      IAM_WATCHER_LOG_FORMAT: 'json',
    };
    const d = new Daemon(
      ['-c', GO_FILE, '--watcher.clean.schedule', '@every 1s', '--watcher.task.schedule', '@every 1s'],
      { env },
    );
    try {
      const health = await waitHttp(`http://127.0.0.1:${port}/healthz`, 15_000);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
      await d.waitFor((l) => l.event === 'run.finished' && l.watcher === 'clean', 15_000);
      await d.waitFor((l) => l.event === 'run.finished' && l.watcher === 'task', 15_000);

      // logrotate: rename, SIGUSR1; new lines go to a new file of the old name.
      renameSync(logFile, `${logFile}.1`);
      d.kill('SIGUSR1');
      await d.waitFor((l) => l.event === 'log.reopened', 5_000);
      const reopenedAt = d.lines().length;
      await d.waitFor(() => d.lines().filter((l) => l.event === 'run.finished').length >= 4, 15_000);
      assert.ok(d.lines().length > reopenedAt);
      d.kill('SIGTERM');
      const exit = await d.exited;
      assert.equal(exit.code, 0, d.stderr);
    } finally {
      d.kill('SIGKILL');
    }
    const out = d.lines();
    assert.equal(out.filter((l) => l.event === 'config.ignored').length, 1, 'ignored keys reported once');
    const ignored = out.find((l) => l.event === 'config.ignored')?.keys as Array<{ key: string }>;
    assert.deepEqual(
      ignored.map((k) => k.key),
      [
        'mysql.log-level',
        'redis.optimisation-max-idle',
        'redis.optimisation-max-active',
        'log.development',
        'log.disable-caller',
      ],
    );
    assert.ok(out.some((l) => l.event === 'daemon.stopped'));
    assert.ok(
      out.every((l) => l.name === 'watcher'),
      'log.name on every line',
    );

    // Nothing lost: the old file and the new one hold, in order, every line stdout shows.
    const rotated = jsonLines(readFileSync(`${logFile}.1`, 'utf8'));
    const fresh = jsonLines(readFileSync(logFile, 'utf8'));
    assert.ok(rotated.some((l) => l.event === 'daemon.started'));
    assert.ok(fresh.some((l) => l.event === 'daemon.stopped'));
    assert.ok(fresh.some((l) => l.event === 'run.finished'));
    assert.deepEqual([...rotated, ...fresh], out);
    assert.equal(statSync(logFile).mode & 0o777, 0o640);
    assert.ok(existsSync(join(logDir, 'iam-watcher.error.log')), 'error output opened');
  });

  void it('an error output receives error lines only', async () => {
    const errFile = join(logDir, 'errors-only.log');
    writeFileSync(errFile, 'kept\n');
    const port = await freePort();
    const d = new Daemon(['-c', GO_FILE], {
      env: {
        ...installerEnv(db.name, logDir),
        IAM_WATCHER_HEALTH_CHECK_ADDRESS: `127.0.0.1:${port}`,
        IAM_WATCHER_LOCK_KEY_PREFIX: PREFIX,
        IAM_WATCHER_LOG_FORMAT: 'json',
        IAM_WATCHER_LOG_ERROR_OUTPUT_PATHS: errFile,
        // A start-up that cannot reach MySQL logs an error and exits 1.
        IAM_WATCHER_MYSQL_HOST: '127.0.0.1:1',
        IAM_WATCHER_STARTUP_TIMEOUT: '500ms',
      },
    });
    const exit = await d.exited;
    assert.equal(exit.code, 1, d.stderr);
    const lines = readFileSync(errFile, 'utf8').split('\n');
    assert.equal(lines[0], 'kept', 'appended to');
    const errors = jsonLines(lines.slice(1).join('\n'));
    assert.ok(errors.length > 0, 'the start-up failure is in the error output');
    assert.ok(errors.every((l) => l.level === 'error' || l.level === 'fatal'));
  });
});
