/**
 * The logger censors `password` properties (and any other names it is given) wherever they appear
 * in a line (down to four levels), in child bindings and in serialized errors, and secret texts
 * anywhere in a line, without touching the caller's objects. Lines of a turn are written at its end,
 * at exit, or when `flushLogs()` is called.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CENSOR,
  createLogger,
  flushLogs,
  LogOutputError,
  pinoLevel,
  type LogOptions,
} from '../../internal/pkg/log/log.js';
import { scrubSecrets } from '../../internal/pkg/log/scrub.js';
import { Secrets } from '../../internal/pkg/censor/censor.js';

const SECRET = 's3cr3t-value';

async function logLines(
  write: (logger: ReturnType<typeof createLogger>) => void,
  opts: Partial<LogOptions> = {},
): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'iamw-log-'));
  try {
    const file = join(dir, 'out.log');
    const logger = createLogger({ level: 'info', format: 'json', outputPaths: [file], ...opts });
    write(logger);
    flushLogs();
    return (await readFile(file, 'utf8')).trim().split('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void describe('log redaction', () => {
  void it('censors password at the top, one and two levels down, in arrays, bindings and errors', async () => {
    const mysql = { host: 'db', password: SECRET };
    const err = Object.assign(new Error('connect failed'), { config: { user: 'iam', password: SECRET } });
    const lines = await logLines((logger) => {
      logger.info({ password: SECRET }, 'top');
      logger.info({ mysql }, 'one level');
      logger.info({ config: { mysql: { password: SECRET } } }, 'two levels');
      logger.info({ servers: [{ password: SECRET }] }, 'array');
      logger.error({ err }, 'error with its connection options');
      logger.child({ password: SECRET }).info('binding');
    });
    assert.equal(lines.length, 6);
    for (const line of lines) {
      assert.ok(!line.includes(SECRET), `secret in ${line}`);
      assert.ok(line.includes(`"${CENSOR}"`), `no censor mark in ${line}`);
    }
    const errLine = JSON.parse(lines[4] ?? '{}') as { err?: { message?: string; config?: unknown } };
    assert.equal(errLine.err?.message, 'connect failed');
    assert.deepEqual(errLine.err?.config, { user: 'iam', password: CENSOR });
    // The caller's objects are left as they were.
    assert.equal(mysql.password, SECRET);
    assert.equal(err.config.password, SECRET);
  });

  void it('returns a line without secrets as it is (no copy) and leaves other fields alone', () => {
    const line = { event: 'run.finished', watcher: 'clean', counts: { deleted: 3 }, list: [1, 2] };
    assert.equal(scrubSecrets(line), line);
    const deep = { a: { b: { c: { d: { e: { password: SECRET } } } } } };
    // Five levels down is beyond the scrub depth (a whole config logged as one property is four).
    assert.equal(scrubSecrets(deep), deep);
    assert.deepEqual(scrubSecrets({ password: '', other: 1 }), { password: '', other: 1 });
  });

  void it('censors the names it is given, and secret texts wherever they stand in a line', async () => {
    const token = 'tok-"quoted"-9';
    const secrets = new Secrets(['first-secret', token]);
    const lines = await logLines(
      (logger) => {
        logger.info({ options: { apiToken: 'by-key-only' } }, 'by name');
        logger.child({ 'api-token': 'in-a-binding' }).info('binding');
        logger.error({ err: new Error(`GET /x?token=${token} failed`) }, `run failed: ${token}`);
        logger.info({ deep: { a: { b: { c: { d: { e: token } } } } } }, 'deep');
        secrets.add(['later-secret']); // a reload brings a new value
        logger.info({ note: 'later-secret and first-secret' }, 'after reload');
      },
      { secretKeys: ['apiToken', 'api-token'], secrets },
    );
    assert.equal(lines.length, 5);
    for (const line of lines) {
      for (const s of ['by-key-only', 'in-a-binding', 'tok-', 'first-secret', 'later-secret']) {
        assert.ok(!line.includes(s), `${s} in ${line}`);
      }
      assert.ok(line.includes(CENSOR), `no censor mark in ${line}`);
      JSON.parse(line); // still one JSON object
    }
  });
});

void describe('log writes', () => {
  void it('writes the lines of a turn by its end, and those of a process exiting in the same turn', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iamw-log-'));
    try {
      const file = join(dir, 'turn.log');
      const logger = createLogger({ level: 'info', format: 'json', outputPaths: [file] });
      for (let i = 0; i < 3; i++) logger.info({ i }, 'line');
      await new Promise((r) => setImmediate(r));
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { i: number }).i),
        [0, 1, 2],
      );
      // flushLogs() writes what the turn has logged so far, before its end.
      // Read synchronously: an await would let the turn end, and the buffer write itself.
      logger.info({ i: 3 }, 'line');
      assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 3);
      flushLogs();
      assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 4);
      // A process that logs and exits at once (a fatal error path): the exit handler writes the line.
      const exiting = join(dir, 'exit.log');
      const module = new URL('../../internal/pkg/log/log.ts', import.meta.url).href;
      const script = [
        `const { createLogger } = await import(${JSON.stringify(module)});`,
        `const logger = createLogger({ level: 'info', format: 'json', outputPaths: [${JSON.stringify(exiting)}] });`,
        `logger.error({ event: 'fatal' }, 'last words');`,
        'process.exit(3);',
      ].join('\n');
      const { spawnSync } = await import('node:child_process');
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      assert.equal(child.status, 3, child.stderr);
      const last = JSON.parse((await readFile(exiting, 'utf8')).trim()) as { event: string; msg: string };
      assert.deepEqual([last.event, last.msg], ['fatal', 'last words']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe('log options of the Go original', () => {
  void it('writes log.name, drops stacks on request, maps dpanic, buffers console lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iamw-log-'));
    try {
      const file = join(dir, 'go.log');
      const errors = join(dir, 'errors.log');
      const logger = createLogger({
        level: pinoLevel('dpanic'),
        format: 'json',
        outputPaths: [file],
        errorOutputPaths: [errors],
        name: 'watcher',
        disableStacktrace: true,
      });
      logger.error({ err: new Error('boom') }, 'not written at dpanic');
      logger.fatal({ err: new Error('boom') }, 'written');
      flushLogs();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 1);
      const line = JSON.parse(lines[0] ?? '') as { name: string; err: { message: string; stack?: string } };
      assert.equal(line.name, 'watcher');
      assert.equal(line.err.message, 'boom');
      assert.equal(line.err.stack, undefined);
      assert.equal(readFileSync(errors, 'utf8'), readFileSync(file, 'utf8'), 'fatal also to errors');
      assert.equal(statSync(file).mode & 0o777, 0o640);

      const pretty = join(dir, 'console.log');
      const consoleLogger = createLogger({ level: 'info', format: 'console', outputPaths: [pretty] });
      consoleLogger.info({ event: 'x' }, 'hello');
      assert.equal(readFileSync(pretty, 'utf8'), '', 'written at the end of the turn');
      flushLogs();
      assert.match(readFileSync(pretty, 'utf8'), /INFO.*hello/);
      assert.throws(
        () => createLogger({ level: 'info', format: 'json', outputPaths: [join(dir, 'no', 'x.log')] }),
        (err: unknown) => err instanceof LogOutputError && err.option === 'output-paths',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
