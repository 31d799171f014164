/**
 * The Go iam-watcher's configuration loads unchanged: its shipped file (reproduced in
 * test/fixtures/go/iam-watcher.yaml), its keys with their Go types, and its value mistakes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import '../../internal/watcher/watcher/all.js';
import { defaultRegistry } from '../../internal/watcher/watcher/registry.js';
import { checkSchedule } from '../../internal/watcher/scheduler/spec.js';
import {
  effectiveConfigView,
  ignoredSettings,
  loadConfig,
  type LoadInput,
} from '../../internal/watcher/options/index.js';
import { ConfigError } from '../../internal/watcher/errors.js';

const WATCHERS = defaultRegistry.list();
const GO_FILE = resolve(import.meta.dirname, '../fixtures/go/iam-watcher.yaml');

/** What the IAM installer exports before rendering its config (an empty Redis password included). */
function goEnv(logDir: string): Record<string, string> {
  return {
    MARIADB_HOST: '127.0.0.1:3306',
    MARIADB_USERNAME: 'iam',
    MARIADB_PASSWORD: 'iam59!z$',
    MARIADB_DATABASE: 'iam',
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: '6379',
    REDIS_PASSWORD: '',
    IAM_LOG_DIR: logDir,
  };
}

function input(over: Partial<LoadInput> = {}): LoadInput {
  return {
    flags: {},
    env: {},
    cwd: tmpdir(),
    homeDir: tmpdir(),
    searchPath: [],
    hostname: 'host1',
    pid: 42,
    watchers: WATCHERS,
    checkSchedule,
    ...over,
  };
}

function problems(over: Partial<LoadInput>): Array<{ key: string; message: string }> {
  try {
    loadConfig(input(over));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => ({ key: p.key, message: p.message }));
    throw err;
  }
  assert.fail('the config loaded');
}

void describe('the Go iam-watcher configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iamw-go-'));
  const logDir = join(dir, 'log');
  mkdirSync(logDir);

  void it('loads its shipped file with the Go values mapped', () => {
    const c = loadConfig(input({ configPath: GO_FILE, env: goEnv(logDir) }));
    assert.equal(c.healthCheckPath, 'healthz');
    assert.deepEqual(c.healthCheckAddress, { host: '0.0.0.0', port: 5050 });
    assert.equal(c.watchers.clean?.options['maxReserveDays'], 180);
    assert.equal(c.watchers.task?.options['maxInactiveDays'], 180);
    assert.equal(c.mysql.host, '127.0.0.1:3306');
    assert.equal(c.mysql.password, 'iam59!z$');
    assert.equal(c.mysql.maxConnectionLifeTimeMs, 10_000);
    assert.equal(c.mysql.logLevel, 4);
    assert.equal(c.redis.port, 6379);
    assert.equal(c.redis.password, '');
    assert.equal(c.redis.database, 1);
    assert.equal(c.redis.timeoutMs, 5_000, 'an integer redis.timeout is seconds');
    assert.equal(c.log.level, 'debug');
    assert.equal(c.log.format, 'console');
    assert.equal(c.log.name, 'watcher');
    assert.equal(c.log.enableColor, true);
    assert.deepEqual(c.log.outputPaths, [join(logDir, 'iam-watcher.log'), 'stdout']);
    assert.deepEqual(c.log.errorOutputPaths, [join(logDir, 'iam-watcher.error.log')]);
    const view = effectiveConfigView(c, WATCHERS) as { redis: Record<string, unknown> };
    assert.equal(view.redis['timeout'], '5s');
  });

  void it('names every key it accepts without effect, with the reason', () => {
    const c = loadConfig(input({ configPath: GO_FILE, env: goEnv(logDir) }));
    const ignored = ignoredSettings(c, WATCHERS);
    assert.deepEqual(
      ignored.map((i) => i.key),
      [
        'mysql.log-level',
        'redis.optimisation-max-idle',
        'redis.optimisation-max-active',
        'log.development',
        'log.disable-caller',
      ],
    );
    for (const i of ignored) assert.ok(i.reason.length > 20, `${i.key} says why`);
    assert.deepEqual(ignoredSettings(loadConfig(input()), WATCHERS), [], 'defaults report nothing');
  });

  void it('takes redis.timeout as seconds or a duration, and lists as lists or comma strings', () => {
    const c = loadConfig(
      input({
        env: { IAM_WATCHER_REDIS_TIMEOUT: '7', IAM_WATCHER_REDIS_ADDRS: '10.0.0.1:26379, 10.0.0.2:26379' },
        flags: { 'log.output-paths': `stdout,${join(logDir, 'a.log')}` },
      }),
    );
    assert.equal(c.redis.timeoutMs, 7_000);
    assert.deepEqual(c.redis.addrs, ['10.0.0.1:26379', '10.0.0.2:26379']);
    assert.deepEqual(c.log.outputPaths, ['stdout', join(logDir, 'a.log')]);
    assert.equal(loadConfig(input({ flags: { 'redis.timeout': '1500ms' } })).redis.timeoutMs, 1_500);
    assert.equal(loadConfig(input({ flags: { 'redis.timeout': '0' } })).redis.timeoutMs, 5_000);
    assert.equal(loadConfig(input({ flags: { 'log.level': 'dpanic' } })).log.level, 'dpanic');
  });

  void it('refuses bad Go values naming the key', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'redis:',
        '  timeout: abc',
        'log:',
        '  level: loud',
        `  output-paths: ${join(dir, 'missing', 'w.log')},stdout`,
        `  error-output-paths: [${dir}]`,
        'mysql:',
        '  log-level: 9',
        '',
      ].join('\n'),
    );
    const got = problems({ configPath: file });
    assert.deepEqual(got.map((p) => p.key).sort(), [
      'log.error-output-paths',
      'log.level',
      'log.output-paths',
      'mysql.log-level',
      'redis.timeout',
    ]);
    const byKey = new Map(got.map((p) => [p.key, p.message]));
    assert.match(byKey.get('log.output-paths') ?? '', /missing.*does not exist/);
    assert.match(byKey.get('log.error-output-paths') ?? '', /directory/);
    assert.match(byKey.get('redis.timeout') ?? '', /abc/);
  });

  void it('treats an unset placeholder as a problem but an empty one as an empty value', () => {
    const env = goEnv(logDir);
    delete (env as Record<string, string | undefined>)['REDIS_PASSWORD'];
    const got = problems({ configPath: GO_FILE, env });
    assert.deepEqual(
      got.map((p) => p.key),
      ['redis.password'],
    );
    assert.ok(!got.some((p) => p.message.includes('iam59')), 'no secret in a problem');
  });

  void it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
