/**
 * Bad configuration input: each class of problem gives one line that starts with the key path, says
 * what is wrong (with `file:line` when it came from the file), all problems come at once, and a
 * secret's value never appears.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intField, stringField } from '../../internal/watcher/options/fields.js';
import { loadConfig, MAX_CONFIG_BYTES, type LoadInput } from '../../internal/watcher/options/index.js';
import { ConfigError, WatcherDefinitionError, type ConfigProblem } from '../../internal/watcher/errors.js';
import type { AnyWatcher } from '../../internal/watcher/watcher/registry.js';

const run = (): Promise<void> => Promise.resolve();

const WATCHERS: readonly AnyWatcher[] = [
  {
    name: 'task',
    description: 'disables inactive users',
    schedule: '@every 1d',
    options: { maxInactiveDays: intField({ default: 0, doc: 'days', min: 0, max: 36_500 }) },
    run,
  },
  {
    name: 'clean',
    description: 'deletes old audit rows',
    schedule: '@every 1d',
    options: {
      maxReserveDays: intField({ default: 180, doc: 'days', min: 1, max: 36_500 }),
      token: stringField({ default: '', doc: 'a secret', secret: true, check: (v) => `bad token ${v}` }),
    },
    run,
  },
];

/** A stand-in for the scheduler's check: fixed-delay needs `@every`, specs must not say "bad". */
function checkSchedule(spec: string, mode: string): string | undefined {
  if (spec.includes('bad')) return `"${spec}" is not a cron spec`;
  if (mode === 'fixed-delay' && !spec.startsWith('@every'))
    return 'mode fixed-delay needs an @every schedule';
  return undefined;
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iam-watcher-options-errors-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function input(over: Partial<LoadInput> = {}): LoadInput {
  return {
    flags: {},
    env: {},
    cwd: dir,
    homeDir: dir,
    searchPath: [],
    hostname: 'h',
    pid: 1,
    watchers: WATCHERS,
    checkSchedule,
    ...over,
  };
}

let n = 0;
function file(text: string | Buffer): string {
  const path = join(dir, `c${++n}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problems(over: Partial<LoadInput>): ConfigProblem[] {
  try {
    loadConfig(input(over));
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.ok(!/\n\s+at /.test(err.message), 'no stack trace in the message');
    return [...err.problems];
  }
  assert.fail('expected a ConfigError');
}

/** Problems of a file with this text; asserts every one points into the file. */
function fileProblems(text: string): { path: string; list: ConfigProblem[] } {
  const path = file(text);
  return { path, list: problems({ configPath: path }) };
}

function only(list: ConfigProblem[]): ConfigProblem {
  assert.equal(list.length, 1, JSON.stringify(list));
  return list[0]!;
}

void describe('the file as a whole', () => {
  void it('reports a missing -c file', () => {
    const p = only(problems({ configPath: join(dir, 'absent.yaml') }));
    assert.equal(p.key, '(config)');
    assert.match(p.message, /absent\.yaml: no such file/);
  });

  void it('reports a directory given as the file', () => {
    assert.match(only(problems({ configPath: dir })).message, /is a directory, not a file/);
  });

  void it('reports an unreadable file', (t) => {
    if (process.getuid?.() === 0) {
      t.skip('root reads every file');
      return;
    }
    const path = file('mysql: {}\n');
    chmodSync(path, 0o000);
    assert.match(only(problems({ configPath: path })).message, /permission denied/);
  });

  void it('reports a huge file without reading it', () => {
    const path = file(Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x23));
    assert.match(only(problems({ configPath: path })).message, /a config file may be at most 1048576 bytes/);
  });

  void it('reports binary garbage', () => {
    assert.match(
      only(problems({ configPath: file(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])) })).message,
      /not a text file/,
    );
    assert.match(
      only(problems({ configPath: file(Buffer.from([0xc3, 0x28, 0x0a])) })).message,
      /not valid UTF-8/,
    );
  });

  void it('reports a file that is not a mapping', () => {
    for (const text of ['- a\n- b\n', 'just text\n', '42\n']) {
      const { list } = fileProblems(text);
      assert.equal(only(list).key, '(config)');
      assert.match(only(list).message, /must be a YAML mapping of keys/);
    }
  });

  void it('accepts an empty file or one with comments only', () => {
    for (const text of ['', '# nothing yet\n', '---\n']) {
      const path = file(text);
      assert.equal(loadConfig(input({ configPath: path })).configFile, path);
    }
  });

  void it('reports invalid YAML with line and column', () => {
    const { path, list } = fileProblems('mysql:\n  host: a: b\n');
    const p = only(list);
    assert.equal(p.key, '(config)');
    assert.match(p.message, /^invalid YAML: /);
    assert.equal(p.where, `${path}:2:9`);
  });

  void it('reports duplicate keys and several documents', () => {
    assert.match(only(fileProblems('log:\n  level: info\n  level: debug\n').list).message, /unique/);
    assert.match(only(fileProblems('log: {}\n---\nmysql: {}\n').list).message, /multiple documents/);
  });

  void it('says to quote an unquoted cron spec or @every', () => {
    const { path, list } = fileProblems(
      'watcher:\n  clean:\n    schedule: */5 * * * *\n  task:\n    enabled: true\n    schedule: @every 1h # hourly\n',
    );
    assert.deepEqual(list, [
      {
        key: 'watcher.clean.schedule',
        message: 'YAML reads an unquoted * as an alias; quote the spec: schedule: "*/5 * * * *"',
        where: `${path}:3`,
      },
      {
        key: 'watcher.task.schedule',
        message: 'YAML cannot start a plain value with @; quote the spec: schedule: "@every 1h"',
        where: `${path}:6`,
      },
    ]);
  });

  void it('reports a lone alias that YAML accepts but resolves to nothing', () => {
    const p = only(fileProblems('watcher:\n  clean:\n    schedule: *daily\n').list);
    assert.equal(p.key, 'watcher.clean.schedule');
    assert.match(p.message, /alias \*daily refers to no anchor/);
  });

  /** Anchors that each refer nine times to the one before: expanding the last one is 9^levels items. */
  function aliasBomb(levels: number): string {
    const lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < levels; i++)
      lines.push(
        `l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    return `${lines.join('\n')}\nwatcher:\n  task:\n    max-inactive-days: *l${levels - 1}\n`;
  }

  void it('refuses a file with more than 100 aliases', () => {
    const p = only(fileProblems(aliasBomb(13)).list);
    assert.equal(p.key, '(config)');
    assert.match(p.message, /more than 100 YAML aliases/);
  });

  void it('never expands aliases beyond the value a key needs', () => {
    const started = Date.now();
    const { list } = fileProblems(aliasBomb(12));
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(
      list.map((p) => p.key),
      [...Array.from({ length: 12 }, (_, i) => `l${i}`), 'watcher.task.max-inactive-days'],
    );
    assert.match(list[12]!.message, /must be an integer, got a list/);
  });

  void it('uses a few aliases like any value', () => {
    const path = file('anchors: &days 30\n');
    assert.match(only(problems({ configPath: path })).message, /unknown key/);
    const ok = file('watcher:\n  task:\n    max-inactive-days: &d 30\n  clean:\n    max-reserve-days: *d\n');
    assert.equal(loadConfig(input({ configPath: ok })).watchers.clean!.options.maxReserveDays, 30);
  });

  void it('refuses deep nesting before the YAML parser recurses into it', () => {
    const depth = 200_000;
    const texts = [
      `mysql: ${'['.repeat(depth)}${']'.repeat(depth)}\n`,
      `mysql: [x'${'['.repeat(depth)}\n`,
      Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
      `a:\n  ${'- '.repeat(100)}x\n`,
    ];
    for (const text of texts) {
      const p = only(fileProblems(text).list);
      assert.equal(p.key, '(config)');
      assert.match(p.message, /nested more than 64 levels deep/);
    }
  });

  void it('reads brackets inside quotes and comments as text', () => {
    const deep = '['.repeat(100);
    const path = file(
      `mysql:\n  username: "${deep}"\n  database: 'it''s' # ${deep} don't\nlog:\n  output-paths: [stdout, "{x"]\n`,
    );
    const c = loadConfig(input({ configPath: path }));
    assert.equal(c.mysql.username, deep);
    assert.equal(c.mysql.database, "it's");
    assert.deepEqual(c.log.outputPaths, ['stdout', '{x']);
  });
});

void describe('keys', () => {
  void it('reports unknown keys with the nearest known key', () => {
    const { path, list } = fileProblems(
      'helth-check-path: x\nmysql:\n  pasword: p\nwatcher:\n  clean:\n    max-reserve-day: 3\n  task:\n    frobnicate: 1\n',
    );
    assert.deepEqual(list, [
      {
        key: 'helth-check-path',
        message: 'unknown key; did you mean health-check-path?',
        where: `${path}:1`,
      },
      { key: 'mysql.pasword', message: 'unknown key; did you mean mysql.password?', where: `${path}:3` },
      {
        key: 'watcher.clean.max-reserve-day',
        message: 'unknown key; did you mean watcher.clean.max-reserve-days?',
        where: `${path}:6`,
      },
      { key: 'watcher.task.frobnicate', message: 'unknown key', where: `${path}:8` },
    ]);
  });

  void it('reports an unknown watcher, listing the known ones', () => {
    const { path, list } = fileProblems('watcher:\n  counter:\n    max-reserve-days: 9\n  nosuch: {}\n');
    assert.deepEqual(list, [
      {
        key: 'watcher.counter',
        message: 'unknown watcher "counter" (known: clean, task); did you mean watcher.clean?',
        where: `${path}:2`,
      },
      { key: 'watcher.nosuch', message: 'unknown watcher "nosuch" (known: clean, task)', where: `${path}:4` },
    ]);
  });

  void it('rejects the Go original flag watcher.counter.max-reserve-days, pointing at watcher.clean', () => {
    const p = only(problems({ flags: { 'watcher.counter.max-reserve-days': '90' } }));
    assert.equal(p.key, 'watcher.counter.max-reserve-days');
    assert.match(
      p.message,
      /unknown option --watcher\.counter\.max-reserve-days; did you mean --watcher\.clean\.max-reserve-days\?/,
    );
  });

  void it('reports unknown IAM_WATCHER_* variables with the nearest known one', () => {
    const list = problems({
      env: { IAM_WATCHER_MYSQL_PASWORD: 'hunter2', IAM_WATCHER_NOTHING_LIKE_IT: '1', HOME: '/' },
    });
    assert.deepEqual(list, [
      {
        key: 'IAM_WATCHER_MYSQL_PASWORD',
        message: 'unknown environment variable; did you mean IAM_WATCHER_MYSQL_PASSWORD?',
      },
      { key: 'IAM_WATCHER_NOTHING_LIKE_IT', message: 'unknown environment variable' },
    ]);
  });

  void it('ignores the variables Kubernetes derives from a Service named iam-watcher', () => {
    const env = {
      IAM_WATCHER_SERVICE_HOST: '10.0.0.7',
      IAM_WATCHER_SERVICE_PORT: '5050',
      IAM_WATCHER_SERVICE_PORT_HTTP: '5050',
      IAM_WATCHER_PORT: 'tcp://10.0.0.7:5050',
      IAM_WATCHER_PORT_5050_TCP: 'tcp://10.0.0.7:5050',
      IAM_WATCHER_PORT_5050_TCP_ADDR: '10.0.0.7',
      IAM_WATCHER_PORT_5050_TCP_PORT: '5050',
      IAM_WATCHER_PORT_5050_TCP_PROTO: 'tcp',
    };
    assert.equal(loadConfig(input({ env })).healthCheckAddress.port, 5050);
  });

  void it('reports an env name that two keys map to', () => {
    const clash: AnyWatcher[] = [
      {
        name: 'a-b',
        description: '',
        schedule: '@every 1h',
        options: { c: intField({ default: 1, doc: 'c' }) },
        run,
      },
      {
        name: 'a',
        description: '',
        schedule: '@every 1h',
        options: { bC: intField({ default: 1, doc: 'c' }) },
        run,
      },
    ];
    const p = only(problems({ watchers: clash, env: { IAM_WATCHER_WATCHER_A_B_C: '2' } }));
    assert.match(p.message, /ambiguous: it names watcher\.a-b\.c and watcher\.a\.b-c/);
    assert.equal(
      loadConfig(input({ watchers: clash, flags: { 'watcher.a.b-c': '2' } })).watchers.a!.options.bC,
      2,
    );
  });

  void it('refuses a watcher option that clashes with a common key: a bug in the watcher', () => {
    const clash: AnyWatcher = {
      name: 'odd',
      description: '',
      schedule: '@every 1h',
      options: { batchSize: intField({ default: 1, doc: 'rows' }) },
      run,
    };
    assert.throws(
      () => loadConfig(input({ watchers: [clash] })),
      (err: unknown) =>
        err instanceof WatcherDefinitionError &&
        err.code === 'WATCHER_INVALID' &&
        /watcher "odd" declares option "batchSize", which clashes with watcher\.odd\.batch-size/.test(
          err.message,
        ),
    );
  });

  void it('reports a scalar where a section belongs', () => {
    const p = only(fileProblems('mysql: localhost\n').list);
    assert.equal(p.key, 'mysql');
    assert.match(p.message, /must be a mapping of keys, got string "localhost"/);
  });

  void it('reports a key with no value', () => {
    const p = only(fileProblems('redis:\n  port:\n').list);
    assert.equal(p.key, 'redis.port');
    assert.match(p.message, /has no value/);
  });

  void it('reports non-string keys and merge keys', () => {
    assert.match(only(fileProblems('? [a]\n: 1\n').list).message, /keys must be plain names/);
    assert.match(only(fileProblems('<<: {a: 1}\n').list).message, /unknown key/);
  });
});

void describe('values', () => {
  const cases: [string, string, RegExp][] = [
    ['watcher.clean.max-reserve-days', '-5', /must not be negative, got -5/],
    ['watcher.clean.max-reserve-days', '1.5', /must be a whole number, got 1.5/],
    ['watcher.clean.max-reserve-days', 'ninety', /must be an integer, got string "ninety"/],
    ['watcher.task.max-inactive-days', '40000', /must be between 0 and 36500, got 40000/],
    ['redis.port', '0', /between 1 and 65535, got 0/],
    ['redis.port', '65536', /between 1 and 65535, got 65536/],
    ['redis.database', '256', /between 0 and 255/],
    ['redis.timeout', '5 seconds', /is not a duration/],
    ['redis.timeout', '-1s', /negative duration/],
    ['lock.lease', '500ms', /must be at least 1s, got 500ms/],
    ['shutdown-timeout', '3', /is not a duration/],
    ['health-check-address', 'localhost', /must be host:port/],
    ['health-check-address', '0.0.0.0:70000', /port must be between 1 and 65535, got 70000/],
    ['mysql.host', 'db:port', /must be host:port/],
    ['redis.addrs', 'r1:6379,r2', /item 1: must be host:port/],
    ['redis.host', 'bad host', /must be a host name or IP address/],
    [
      'log.level',
      'verbose',
      /must be one of trace, debug, info, warn, error, dpanic, panic, fatal, silent, got string "verbose"/,
    ],
    ['log.format', 'xml', /must be one of json, console/],
    ['lock.backend', 'etcd', /must be one of redis, local/],
    ['watcher.task.mode', 'fixed', /must be one of fixed-rate, fixed-delay/],
    ['watcher.task.overlap', 'queue', /must be one of skip, allow, delay/],
    ['watcher.task.time-zone', 'Mars/Olympus', /must be an IANA time zone/],
    ['watcher.task.batch-size', '0', /between 1 and 100000, got 0/],
    ['watcher.task.enabled', 'maybe', /must be true or false/],
    ['watcher.task.schedule', '', /must not be empty/],
    ['lock.key-prefix', 'a b', /must be 1 to 64 letters/],
    ['instance-id', 'a b', /at most 128 letters/],
  ];
  for (const [key, raw, expected] of cases) {
    void it(`flag ${key}=${JSON.stringify(raw)}`, () => {
      const p = only(problems({ flags: { [key]: raw } }));
      assert.equal(p.key, key);
      assert.match(p.message, expected);
      assert.equal(p.where, `flag --${key}`);
    });
  }

  void it('reports wrong YAML types with the file line', () => {
    const { path, list } = fileProblems(
      [
        'redis:',
        '  port: "x"',
        '  use-ssl: 1.5',
        '  addrs: {a: 1}',
        'log:',
        '  output-paths: [stdout, [nested]]',
        'lock:',
        '  lease: 30',
        'mysql:',
        '  username: [a]',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      list.map((p) => [p.key, p.where]),
      [
        ['redis.port', `${path}:2`],
        ['redis.use-ssl', `${path}:3`],
        ['redis.addrs', `${path}:4`],
        ['log.output-paths', `${path}:6`],
        ['lock.lease', `${path}:8`],
        ['mysql.username', `${path}:10`],
      ],
    );
    assert.match(list[2]!.message, /must be a list of strings, got a mapping/);
    assert.match(list[3]!.message, /item 1 must be a string, got a list/);
    assert.match(list[4]!.message, /must be a duration string such as 30s, 3m or 1d, got number 30/);
  });

  void it('reports env values with the variable name', () => {
    const p = only(problems({ env: { IAM_WATCHER_WATCHER_CLEAN_MAX_RESERVE_DAYS: '-1' } }));
    assert.deepEqual(p, {
      key: 'watcher.clean.max-reserve-days',
      message: 'must not be negative, got -1',
      where: 'env IAM_WATCHER_WATCHER_CLEAN_MAX_RESERVE_DAYS',
    });
  });

  void it('reports schedule problems from checkSchedule at the schedule key, with its line', () => {
    const { path, list } = fileProblems(
      'watcher:\n  task:\n    mode: fixed-delay\n    schedule: "0 3 * * *"\n  clean:\n    schedule: "bad spec"\n',
    );
    assert.deepEqual(list, [
      {
        key: 'watcher.task.schedule',
        message: 'mode fixed-delay needs an @every schedule',
        where: `${path}:4`,
      },
      { key: 'watcher.clean.schedule', message: '"bad spec" is not a cron spec', where: `${path}:6` },
    ]);
  });

  void it('does not check a schedule whose mode or zone is itself wrong', () => {
    const list = problems({ flags: { 'watcher.task.mode': 'nope', 'watcher.task.schedule': 'bad' } });
    assert.deepEqual(
      list.map((p) => p.key),
      ['watcher.task.mode'],
    );
  });

  void it('turns a throwing checkSchedule into a problem', () => {
    const p = only(
      problems({
        checkSchedule: () => {
          throw new Error('boom');
        },
        flags: { 'watcher.task.enabled': 'false' },
      }).slice(0, 1),
    );
    assert.match(p.message, /cannot be scheduled: boom/);
  });
});

void describe('all at once, secrets kept', () => {
  void it('reports every problem of every source in one error', () => {
    const path = file('redis:\n  port: 0\nmysql:\n  host: x\nwatcher:\n  task:\n    max-inactive-days: -1\n');
    const list = problems({
      configPath: path,
      env: { IAM_WATCHER_LOG_LEVEL: 'loud', IAM_WATCHER_TYPO: '1' },
      flags: { 'lock.lease': 'soon', 'no.such': '1' },
    });
    assert.deepEqual(list.map((p) => p.key).sort(), [
      'IAM_WATCHER_TYPO',
      'lock.lease',
      'log.level',
      'mysql.host',
      'no.such',
      'redis.port',
      'watcher.task.max-inactive-days',
    ]);
    for (const p of list) assert.ok(p.message.length > 0 && !p.message.includes('\n'));
  });

  void it('reports a bad file value even when a flag overrides it', () => {
    const path = file('redis:\n  port: 0\n');
    assert.equal(only(problems({ configPath: path, flags: { 'redis.port': '6380' } })).key, 'redis.port');
  });

  void it('never echoes a secret, from file, env or flag', () => {
    const secret = 'hunter2-Secret';
    const path = file(`mysql:\n  password: [${secret}]\nredis:\n  password: {a: ${secret}}\n`);
    const err = (() => {
      try {
        loadConfig(
          input({
            configPath: path,
            env: { IAM_WATCHER_WATCHER_CLEAN_TOKEN: secret, PW: secret },
            flags: { 'mysql.password': 'x'.repeat(5000) + secret },
          }),
        );
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.ok(err instanceof ConfigError);
    assert.ok(!err.message.includes(secret), err.message);
    assert.ok(!err.message.includes('xxxxxxxx'), 'no long secret either');
    assert.deepEqual(
      err.problems.map((p) => p.key),
      ['mysql.password', 'redis.password', 'watcher.clean.token', 'mysql.password'],
    );
    assert.match(err.problems[2]!.message, /bad token \*\*\*/);
  });

  void it('keeps secrets out of YAML syntax errors', () => {
    const secret = 'Zz9-secret';
    const { list } = fileProblems(`mysql:\n  password: ${secret}: oops\n`);
    assert.ok(!JSON.stringify(list).includes(secret));
  });
});
