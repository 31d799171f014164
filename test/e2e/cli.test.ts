/** The CLI as a user meets it: help, version, validate, bad flags and bad files. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ListRow } from '../../internal/watcher/list.js';
import { requireBuild, runCli, tempDir, writeConfig, ROOT } from '../helpers/daemon.js';

before(requireBuild);

test('--help lists every option with its default and never a secret', () => {
  const r = runCli(['--help'], { env: { IAM_WATCHER_MYSQL_PASSWORD: 'hunter2-help' } });
  assert.equal(r.code, 0, r.stderr);
  for (const flag of [
    '--config',
    '--health-check-address',
    '--mysql.host',
    '--mysql.password',
    '--redis.port',
    '--log.level',
    '--lock.lease',
    '--shutdown-timeout',
    '--watcher.clean.max-reserve-days',
    '--watcher.task.max-inactive-days',
    '--watcher.task.schedule',
  ]) {
    assert.ok(r.stdout.includes(flag), `--help lacks ${flag}`);
  }
  assert.match(r.stdout, /--watcher\.clean\.max-reserve-days <days>.*\(default: 180\)/s);
  assert.match(r.stdout, /--health-check-address .*\(default: 0\.0\.0\.0:5050\)/s);
  assert.ok(!r.stdout.includes('hunter2-help'));
  for (const cmd of ['validate', 'list', 'run']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'));
});

test('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('an unknown flag is bad usage: exit 2', () => {
  const r = runCli(['--no-such-flag']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});

test('validate on a good file prints the effective config with secrets as ***', () => {
  const dir = tempDir();
  const file = writeConfig(
    dir,
    ['mysql:', '  password: "${E2E_PW}"', 'watcher:', '  clean:', '    max-reserve-days: 90', ''].join('\n'),
  );
  const r = runCli(['validate', '-c', file, '--redis.port', '6380'], {
    env: { E2E_PW: 'p@ss-validate', IAM_WATCHER_REDIS_PASSWORD: 'redis-secret-1' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /max-reserve-days: 90/);
  assert.match(r.stdout, /port: 6380/);
  assert.match(r.stdout, /password: "?\*\*\*"?/);
  assert.ok(!(r.stdout + r.stderr).includes('p@ss-validate'));
  assert.ok(!(r.stdout + r.stderr).includes('redis-secret-1'));
  assert.match(r.stderr, /configuration is valid/);
});

test('validate on a bad file lists every problem with its key and line, exit 2, no stack trace', () => {
  const dir = tempDir();
  const file = writeConfig(
    dir,
    [
      'health-check-address: nowhere',
      'redis:',
      '  port: 70000',
      'watcher:',
      '  clean:',
      '    max-reserve-day: 3',
      '  task:',
      '    max-inactive-days: -1',
      '  nosuch:',
      '    enabled: true',
      '',
    ].join('\n'),
  );
  const r = runCli(['validate', '-c', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /health-check-address: .*host:port.*:1\)/);
  assert.match(r.stderr, /redis\.port: .*70000.*:3\)/);
  assert.match(r.stderr, /watcher\.clean\.max-reserve-day: .*did you mean watcher\.clean\.max-reserve-days/);
  assert.match(r.stderr, /watcher\.task\.max-inactive-days: .*negative/);
  assert.match(r.stderr, /watcher\.nosuch: .*(cleansecret|clean|task)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('an unquoted cron spec is explained: quote it', () => {
  const dir = tempDir();
  const file = writeConfig(dir, 'watcher:\n  clean:\n    schedule: */5 * * * *\n');
  const r = runCli(['validate', '-c', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /quot/i);
});

test('a missing config file given with -c is an error, exit 2', () => {
  const r = runCli(['validate', '-c', '/nonexistent/iam-watcher.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/iam-watcher\.yaml/);
});

test('a bad flag value names the flag key, exit 2', () => {
  const r = runCli(['validate', '--watcher.clean.max-reserve-days', '1.5', '--lock.lease', 'soon']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /watcher\.clean\.max-reserve-days: .*whole number/);
  assert.match(r.stderr, /lock\.lease: .*duration/);
});

test('a bad schedule stops with exit 2 naming the watcher and the spec', () => {
  const r = runCli(['validate', '--watcher.task.schedule', '@every 1 fortnight']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /watcher\.task\.schedule: .*/);
});

test('notify.webhook-url is a secret: validate prints ***, a bad one is exit 2 without its value', () => {
  const good = runCli(['validate', '--notify.webhook-url', 'https://hooks.example/t/sekret-tok-1']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /webhook-url: "?\*\*\*"?/);
  assert.ok(!good.stdout.includes('sekret-tok-1'));
  for (const bad of ['ftp://hooks.example/sekret-tok-2', 'not a url sekret-tok-2']) {
    const r = runCli(['validate'], { env: { IAM_WATCHER_NOTIFY_WEBHOOK_URL: bad } });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /notify\.webhook-url: must be an http:\/\/ or https:\/\/ URL/);
    assert.ok(!r.stderr.includes('sekret-tok-2'), r.stderr);
  }
});

test('a bad @every phase stops with exit 2 naming the key, from a flag or the file', () => {
  for (const [spec, re] of [
    ['@every 1d/25h', /phase 25h must be less than the interval 1d/],
    ['@every 1d/-1h', /phase: negative duration/],
    ['@every 1d/1d', /phase 1d must be less than the interval 1d/],
    ['@every 1d/3h/1h', /at most one phase/],
  ] as const) {
    const r = runCli(['validate', '--watcher.clean.schedule', spec]);
    assert.equal(r.code, 2, `${spec}: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`watcher\\.clean\\.schedule: .*${re.source}`));
  }
  const file = writeConfig(tempDir(), "watcher:\n  task:\n    schedule: '@every 1d/25h'\n");
  const r = runCli(['validate', '-c', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /watcher\.task\.schedule: .*phase 25h.*iam-watcher\.yaml:3/);
});

test('@every 1d/3h: list shows slots at 03:00 UTC, the same in two processes in different zones', () => {
  const list = (tz: string): ListRow => {
    const r = runCli(['list', '--json', '--watcher.clean.schedule', '@every 1d/3h'], { env: { TZ: tz } });
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as ListRow[]).find((w) => w.name === 'clean')!;
  };
  const shanghai = list('Asia/Shanghai');
  const newYork = list('America/New_York');
  assert.equal(shanghai.next.length, 5);
  for (const n of shanghai.next) assert.match(n.utc, /T03:00:00\.000Z$/);
  for (const n of shanghai.next) assert.match(n.local, / 11:00:00 GMT\+8$/);
  const times = shanghai.next.map((n) => Date.parse(n.utc));
  for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 86_400_000);
  assert.ok(times[0]! > Date.now() - 1000 && times[0]! <= Date.now() + 86_400_000);
  // Another process, another zone, a little later: the same slots (unless 03:00 UTC passed meanwhile).
  const other = newYork.next.map((n) => n.utc);
  const same = other[0] === shanghai.next[0]!.utc ? other : other.slice(0, 4);
  assert.deepEqual(same, shanghai.next.map((n) => n.utc).slice(other[0] === shanghai.next[0]!.utc ? 0 : 1));
});

test('list shows every watcher with its next 5 slots in UTC and in its zone', () => {
  const r = runCli([
    'list',
    '--json',
    '--watcher.clean.schedule',
    '0 30 2 * * *',
    '--watcher.clean.time-zone',
    'Asia/Shanghai',
    '--watcher.cleansecret.schedule',
    '@every 2s',
    '--watcher.cleansecret.mode',
    'fixed-delay',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as ListRow[];
  assert.deepEqual(
    rows.map((w) => w.name),
    ['clean', 'cleansecret', 'task'],
  );
  const clean = rows.find((w) => w.name === 'clean')!;
  assert.equal(clean.mode, 'cron');
  assert.equal(clean.next.length, 5);
  // 02:30:00 in Shanghai (UTC+8, no daylight saving) is 18:30:00 UTC, one day apart.
  for (const n of clean.next) {
    assert.match(n.utc, /T18:30:00\.000Z$/);
    assert.match(n.local, / 02:30:00 GMT\+8$/);
  }
  const times = clean.next.map((n) => Date.parse(n.utc));
  for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 86_400_000);
  assert.ok(times[0]! > Date.now() && times[0]! <= Date.now() + 86_400_000);
  // The default @every 1d/18h: fixed-rate slots on the epoch grid shifted by 18 h, 02:00 in China.
  const task = rows.find((w) => w.name === 'task')!;
  assert.equal(task.schedule, '@every 1d/18h');
  assert.equal(task.mode, 'fixed-rate');
  for (const n of task.next) assert.match(n.utc, /T18:00:00\.000Z$/);
  const secret = rows.find((w) => w.name === 'cleansecret')!;
  assert.equal(secret.enabled, false);
  assert.equal(secret.mode, 'fixed-delay');
  assert.deepEqual(secret.next, []);
  assert.match(secret.note ?? '', /after the previous run ends/);
});
