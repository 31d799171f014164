/**
 * Configuration loading: defaults, precedence (flag > env > file > default), `${VAR}` expansion, the
 * search path, the frozen result, the effective-config view, the secret key names and the shipped files.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { boolField, intField, listField, stringField } from '../../internal/watcher/options/fields.js';
import {
  configKeys,
  configSearchPath,
  defaultText,
  effectiveConfigView,
  envName,
  expandVars,
  findConfigFile,
  loadConfig,
  secretKeyNames,
  type LoadInput,
} from '../../internal/watcher/options/index.js';
import { ConfigError } from '../../internal/watcher/errors.js';
import type { AnyWatcher } from '../../internal/watcher/watcher/registry.js';

const run = (): Promise<void> => Promise.resolve();

/** Stand-ins for the real watchers, with the options and defaults `configs/iam-watcher.yaml` documents. */
const WATCHERS: readonly AnyWatcher[] = [
  {
    name: 'task',
    description: 'disables inactive users',
    schedule: '@every 1d/18h',
    options: {
      maxInactiveDays: intField({ default: 0, doc: 'days', min: 0, max: 36_500, unit: 'days' }),
      excludeAdmins: boolField({ default: true, doc: 'admins' }),
      excludeUsers: listField({ default: [], doc: 'users' }),
    },
    run,
  },
  {
    name: 'clean',
    description: 'deletes old audit rows',
    schedule: '@every 1d/19h',
    options: { maxReserveDays: intField({ default: 180, doc: 'days', min: 1, max: 36_500, unit: 'days' }) },
    run,
  },
  {
    name: 'cleansecret',
    description: 'deletes expired secrets',
    schedule: '@every 1d/20h',
    enabledByDefault: false,
    options: {
      maxExpiredDays: intField({ default: 7, doc: 'days', min: 0, max: 36_500, unit: 'days' }),
      apiToken: stringField({ default: '', doc: 'a secret of the watcher', secret: true }),
    },
    run,
  },
];

let dir: string;

function input(over: Partial<LoadInput> = {}): LoadInput {
  return {
    flags: {},
    env: {},
    cwd: join(dir, 'nowhere'),
    homeDir: join(dir, 'nohome'),
    searchPath: [],
    hostname: 'host1',
    pid: 42,
    watchers: WATCHERS,
    checkSchedule: () => undefined,
    ...over,
  };
}

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iam-watcher-options-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('defaults', () => {
  void it('loads every default with no file, env or flags', () => {
    const c = loadConfig(input());
    assert.equal(c.configFile, undefined);
    assert.equal(c.healthCheckPath, 'healthz');
    assert.deepEqual(c.healthCheckAddress, { host: '0.0.0.0', port: 5050 });
    assert.equal(c.startupTimeoutMs, 30_000);
    assert.equal(c.shutdownTimeoutMs, 180_000);
    assert.equal(c.instanceId, 'host1-42');
    assert.deepEqual(c.lock, { backend: 'redis', leaseMs: 30_000, keyPrefix: 'iam-watcher', redisAddrs: [] });
    assert.equal(c.mysql.host, '127.0.0.1:3306');
    assert.equal(c.mysql.maxConnectionLifeTimeMs, 10_000);
    assert.equal(c.redis.port, 6379);
    assert.deepEqual(c.redis.addrs, []);
    assert.deepEqual(c.log, {
      name: '',
      development: false,
      level: 'info',
      format: 'json',
      enableColor: false,
      disableCaller: true,
      disableStacktrace: false,
      outputPaths: ['stdout'],
      errorOutputPaths: [],
    });
    assert.equal(c.mysql.logLevel, 1);
    assert.equal(c.redis.timeoutMs, 5_000);
  });

  void it('gives every watcher the common keys and its own options under camelCase names', () => {
    const c = loadConfig(input());
    assert.deepEqual(Object.keys(c.watchers), ['task', 'clean', 'cleansecret']);
    const clean = c.watchers.clean!;
    assert.equal(clean.name, 'clean');
    assert.equal(clean.enabled, true);
    assert.equal(clean.schedule, '@every 1d/19h');
    assert.equal(clean.mode, 'fixed-rate');
    assert.equal(clean.overlap, 'skip');
    assert.equal(clean.catchUpMs, 0);
    assert.equal(clean.timeZone, undefined);
    assert.equal(clean.dryRun, false);
    assert.equal(clean.batchSize, 1000);
    assert.deepEqual(clean.options, { maxReserveDays: 180 });
    assert.equal(c.watchers.cleansecret!.enabled, false);
    assert.deepEqual(c.watchers.task!.options, { maxInactiveDays: 0, excludeAdmins: true, excludeUsers: [] });
  });

  void it('returns a deeply frozen config', () => {
    const c = loadConfig(input());
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.mysql));
    assert.ok(Object.isFrozen(c.healthCheckAddress));
    assert.ok(Object.isFrozen(c.log.outputPaths));
    assert.ok(Object.isFrozen(c.watchers.clean!.options));
    assert.throws(() => {
      (c.mysql as { host: string }).host = 'x';
    }, TypeError);
  });
});

void describe('precedence', () => {
  const key = 'watcher.clean.max-reserve-days';
  const env = { IAM_WATCHER_WATCHER_CLEAN_MAX_RESERVE_DAYS: '30' };

  void it('file over default', () => {
    const configPath = writeConfig('p1.yaml', 'watcher:\n  clean:\n    max-reserve-days: 20\n');
    assert.equal(loadConfig(input({ configPath })).watchers.clean!.options.maxReserveDays, 20);
  });

  void it('env over file', () => {
    const configPath = writeConfig('p2.yaml', 'watcher:\n  clean:\n    max-reserve-days: 20\n');
    assert.equal(loadConfig(input({ configPath, env })).watchers.clean!.options.maxReserveDays, 30);
  });

  void it('flag over env over file', () => {
    const configPath = writeConfig('p3.yaml', 'watcher:\n  clean:\n    max-reserve-days: 20\n');
    const c = loadConfig(input({ configPath, env, flags: { [key]: '40' } }));
    assert.equal(c.watchers.clean!.options.maxReserveDays, 40);
  });

  void it('each key takes its own strongest source', () => {
    const configPath = writeConfig(
      'p4.yaml',
      'mysql:\n  host: db:3306\n  username: file-user\nredis:\n  port: 7000\n',
    );
    const c = loadConfig(
      input({ configPath, env: { IAM_WATCHER_MYSQL_USERNAME: 'env-user' }, flags: { 'redis.port': '7001' } }),
    );
    assert.equal(c.mysql.host, 'db:3306');
    assert.equal(c.mysql.username, 'env-user');
    assert.equal(c.redis.port, 7001);
    assert.equal(c.mysql.database, 'iam');
  });

  void it('maps env names from known keys, dashes and dots alike', () => {
    const c = loadConfig(
      input({
        env: {
          IAM_WATCHER_MYSQL_PASSWORD: 'pw',
          IAM_WATCHER_HEALTH_CHECK_ADDRESS: '127.0.0.1:6060',
          IAM_WATCHER_LOG_OUTPUT_PATHS: 'stdout, /var/log/w.log',
          IAM_WATCHER_WATCHER_TASK_EXCLUDE_ADMINS: 'false',
          IAM_WATCHER_LOCK_LEASE: '1m',
          PATH: '/usr/bin',
        },
      }),
    );
    assert.equal(c.mysql.password, 'pw');
    assert.deepEqual(c.healthCheckAddress, { host: '127.0.0.1', port: 6060 });
    assert.deepEqual(c.log.outputPaths, ['stdout', '/var/log/w.log']);
    assert.equal(c.watchers.task!.options.excludeAdmins, false);
    assert.equal(c.lock.leaseMs, 60_000);
  });

  void it('takes the time zone, instance id and empty strings as given', () => {
    const c = loadConfig(
      input({
        flags: { 'watcher.task.time-zone': 'Europe/Berlin', 'instance-id': 'w-1', 'redis.username': '' },
      }),
    );
    assert.equal(c.watchers.task!.timeZone, 'Europe/Berlin');
    assert.equal(c.instanceId, 'w-1');
    assert.equal(c.redis.username, '');
  });

  void it('passes schedule, mode and zone to checkSchedule', () => {
    const seen: unknown[] = [];
    loadConfig(
      input({
        flags: { 'watcher.task.mode': 'fixed-delay', 'watcher.task.time-zone': 'UTC' },
        checkSchedule: (...args) => {
          seen.push(args);
          return undefined;
        },
      }),
    );
    assert.deepEqual(seen[0], ['@every 1d/18h', 'fixed-delay', 'UTC']);
    assert.deepEqual(seen[1], ['@every 1d/19h', 'fixed-rate', undefined]);
    assert.equal(seen.length, 3);
  });
});

void describe('${VAR} expansion', () => {
  void it('expands set variables, defaults and $$', () => {
    const env = { A: 'x', EMPTY: '' };
    assert.deepEqual(expandVars('a${A}b', env), { value: 'axb' });
    assert.deepEqual(expandVars('${B:-dflt}', env), { value: 'dflt' });
    assert.deepEqual(expandVars('${EMPTY:-dflt}', env), { value: 'dflt' });
    assert.deepEqual(expandVars('${A:-dflt}', env), { value: 'x' });
    assert.deepEqual(expandVars('${B:-}', env), { value: '' });
    assert.deepEqual(expandVars('$${A} costs $5', env), { value: '${A} costs $5' });
    assert.deepEqual(expandVars('${EMPTY}', env), { value: '' });
  });

  void it('reports unset, unclosed and malformed variables', () => {
    assert.match(
      (expandVars('${NOPE}', {}) as { problem: string }).problem,
      /\$\{NOPE\} is not set and has no default/,
    );
    assert.match((expandVars('${NOPE', {}) as { problem: string }).problem, /without a closing/);
    assert.match((expandVars('${1X}', {}) as { problem: string }).problem, /not a variable name/);
  });

  void it('expands values in the file, keeping YAML structure and types', () => {
    const configPath = writeConfig(
      'e1.yaml',
      [
        'mysql:',
        '  password: "${DB_PW}"',
        '  host: ${DB_HOST:-db.local:3306}',
        'redis:',
        '  port: ${REDIS_PORT:-6379}',
        '  use-ssl: ${TLS:-true}',
        '  addrs: ["${R1}", "r2:6379"]',
        '',
      ].join('\n'),
    );
    const c = loadConfig(
      input({ configPath, env: { DB_PW: 'p: #1 ${x}', REDIS_PORT: '6380', R1: 'r1:6379' } }),
    );
    assert.equal(c.mysql.password, 'p: #1 ${x}');
    assert.equal(c.mysql.host, 'db.local:3306');
    assert.equal(c.redis.port, 6380);
    assert.equal(c.redis.useSsl, true);
    assert.deepEqual(c.redis.addrs, ['r1:6379', 'r2:6379']);
  });

  void it('names the variable, the key and the line of an unset ${VAR}', () => {
    const configPath = writeConfig('e2.yaml', 'mysql:\n  username: iam\n  password: ${IAM_DB_PASSWORD}\n');
    assert.deepEqual(
      problemsOf(() => loadConfig(input({ configPath }))),
      [
        `mysql.password: \${IAM_DB_PASSWORD} is not set and has no default (write \${IAM_DB_PASSWORD:-default} to give one) (${configPath}:3)`,
      ],
    );
  });
});

void describe('search path', () => {
  void it('looks in ./, ~/.iam/ and /etc/iam/ in that order', () => {
    assert.deepEqual(configSearchPath('/w', '/home/u'), [
      '/w/iam-watcher.yaml',
      '/home/u/.iam/iam-watcher.yaml',
      '/etc/iam/iam-watcher.yaml',
    ]);
    const only =
      (...present: string[]) =>
      (p: string) =>
        present.includes(p);
    const base = { cwd: '/w', homeDir: '/home/u' };
    assert.equal(findConfigFile(base, only('/etc/iam/iam-watcher.yaml')), '/etc/iam/iam-watcher.yaml');
    assert.equal(
      findConfigFile(base, only('/etc/iam/iam-watcher.yaml', '/home/u/.iam/iam-watcher.yaml')),
      '/home/u/.iam/iam-watcher.yaml',
    );
    assert.equal(
      findConfigFile(base, only('/w/iam-watcher.yaml', '/home/u/.iam/iam-watcher.yaml')),
      '/w/iam-watcher.yaml',
    );
    assert.equal(findConfigFile(base, only()), undefined);
  });

  void it('prefers -c, resolved against the working directory, even when it does not exist', () => {
    const always = () => true;
    assert.equal(findConfigFile({ configPath: 'x.yaml', cwd: '/w', homeDir: '/h' }, always), '/w/x.yaml');
    assert.equal(
      findConfigFile({ configPath: '/a/b.yaml', cwd: '/w', homeDir: '/h' }, () => false),
      '/a/b.yaml',
    );
  });

  void it('loads ./iam-watcher.yaml, then ~/.iam/iam-watcher.yaml, from the real file system', () => {
    const cwd = join(dir, 'cwd');
    const homeDir = join(dir, 'home');
    mkdirSync(cwd, { recursive: true });
    mkdirSync(join(homeDir, '.iam'), { recursive: true });
    writeFileSync(join(homeDir, '.iam', 'iam-watcher.yaml'), 'instance-id: from-home\n');
    const searchPath = undefined;
    let c = loadConfig(input({ cwd, homeDir, searchPath }));
    assert.equal(c.instanceId, 'from-home');
    assert.equal(c.configFile, join(homeDir, '.iam', 'iam-watcher.yaml'));
    writeFileSync(join(cwd, 'iam-watcher.yaml'), 'instance-id: from-cwd\n');
    c = loadConfig(input({ cwd, homeDir, searchPath }));
    assert.equal(c.instanceId, 'from-cwd');
  });

  void it('skips a directory on the search path', () => {
    const cwd = join(dir, 'cwd-dir');
    mkdirSync(join(cwd, 'iam-watcher.yaml'), { recursive: true });
    assert.equal(findConfigFile({ cwd, homeDir: join(dir, 'nohome') }, undefined), undefined);
  });
});

void describe('keys, view and redaction', () => {
  void it('lists every key in schema order with env names and docs', () => {
    const keys = configKeys(WATCHERS).map((k) => k.key);
    assert.equal(keys[0], 'health-check-path');
    assert.ok(keys.indexOf('mysql.host') < keys.indexOf('redis.host'));
    assert.ok(keys.indexOf('watcher.task.batch-size') < keys.indexOf('watcher.task.max-inactive-days'));
    assert.ok(keys.includes('watcher.cleansecret.api-token'));
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(envName('watcher.clean.max-reserve-days'), 'IAM_WATCHER_WATCHER_CLEAN_MAX_RESERVE_DAYS');
    for (const k of configKeys(WATCHERS)) assert.ok(k.field.doc.length > 0, k.key);
    const instance = configKeys(WATCHERS).find((k) => k.key === 'instance-id')!;
    assert.equal(defaultText(instance), '<hostname>-<pid>');
  });

  void it('shows the effective config in YAML shape, secrets as ***', () => {
    const c = loadConfig(
      input({
        env: { IAM_WATCHER_MYSQL_PASSWORD: 's3cret', IAM_WATCHER_WATCHER_CLEANSECRET_API_TOKEN: 'tok-123' },
        flags: { 'shutdown-timeout': '90s' },
      }),
    );
    const view = effectiveConfigView(c, WATCHERS) as Record<string, Record<string, Record<string, unknown>>>;
    const text = JSON.stringify(view);
    assert.ok(!text.includes('s3cret') && !text.includes('tok-123'));
    assert.equal(view['shutdown-timeout'], '1m30s');
    assert.equal(view['health-check-address'], '0.0.0.0:5050');
    assert.equal(view.mysql!.password, '***');
    assert.equal(view.redis!.password, '');
    assert.equal(view.mysql!['max-connection-life-time'], '10s');
    assert.equal(view.redis!.port, 6379);
    assert.equal(view.watcher!.cleansecret!['api-token' as never], '***');
    assert.deepEqual(view.watcher!.clean, {
      enabled: true,
      schedule: '@every 1d/19h',
      mode: 'fixed-rate',
      overlap: 'skip',
      'catch-up': '0',
      'time-zone': '',
      'dry-run': false,
      'batch-size': 1000,
      timeout: '0',
      retry: { attempts: 1, backoff: '10s' },
      'max-reserve-days': 180,
    });
  });

  void it('the view, written as YAML, loads back to the same config', () => {
    const c = loadConfig(
      input({ flags: { 'lock.lease': '45s', 'watcher.task.exclude-users': 'root,admin' } }),
    );
    const configPath = writeConfig('roundtrip.yaml', JSON.stringify(effectiveConfigView(c, WATCHERS)));
    const again = loadConfig(input({ configPath }));
    assert.deepEqual({ ...again, configFile: undefined }, { ...c, configFile: undefined });
  });

  void it('names every secret key for the logger, as YAML and as the config writes it', () => {
    assert.deepEqual(secretKeyNames(WATCHERS).sort(), [
      'api-token',
      'apiToken',
      'password',
      'webhook-url',
      'webhookUrl',
    ]);
  });

  void it('builds the keys once per watcher list', () => {
    assert.equal(configKeys(WATCHERS), configKeys(WATCHERS));
    assert.ok(Object.isFrozen(configKeys(WATCHERS)));
    assert.notEqual(configKeys([...WATCHERS]), configKeys(WATCHERS));
    assert.deepEqual(
      configKeys([...WATCHERS]).map((k) => k.key),
      configKeys(WATCHERS).map((k) => k.key),
    );
  });
});

void describe('shipped config files', () => {
  const env = {};

  void it('configs/iam-watcher.yaml writes out every key with its default', () => {
    const c = loadConfig(input({ configPath: 'configs/iam-watcher.yaml', cwd: process.cwd(), env }));
    const defaults = loadConfig(input());
    assert.deepEqual({ ...c, configFile: undefined }, { ...defaults, configFile: undefined });
    const file = parse(readFileSync('configs/iam-watcher.yaml', 'utf8')) as unknown;
    for (const { key } of configKeys(WATCHERS)) {
      if (key === 'watcher.cleansecret.api-token') continue; // a test-only option of the fake watcher
      assert.ok(hasPath(file, key), `configs/iam-watcher.yaml lacks ${key}`);
    }
  });

  void it('configs/iam-watcher.dev.yaml loads', () => {
    const c = loadConfig(input({ configPath: 'configs/iam-watcher.dev.yaml', cwd: process.cwd(), env }));
    assert.equal(c.mysql.username, 'root');
    assert.equal(c.mysql.password, '');
    assert.equal(c.log.format, 'console');
  });
});

function hasPath(obj: unknown, key: string): boolean {
  let node = obj;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}
