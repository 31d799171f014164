/**
 * The error catalogue (internal/watcher/errors.ts): what the daemon raises on purpose carries a
 * stable code. No plain `Error` is thrown anywhere in internal/, and the places that used to throw
 * one throw the catalogue's class with its code.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PoolConnection } from 'mysql2/promise';
import {
  IllegalStateError,
  UnexpectedResultError,
  WatcherDefinitionError,
} from '../../internal/watcher/errors.js';
import { readDbClock } from '../../internal/watcher/kit/db-clock.js';
import { Lanes } from '../../internal/watcher/kit/lanes.js';
import { Registry, type Watcher } from '../../internal/watcher/watcher/registry.js';
import { ROOT, sourceFiles } from '../helpers/sources.js';

const watcher = (name: string): Watcher => ({
  name,
  description: 'test',
  schedule: '@every 1h',
  options: {},
  run: () => Promise.resolve(),
});

void describe('error catalogue', () => {
  void it('internal/ throws no plain Error', async () => {
    const files = sourceFiles(join(ROOT, 'internal'));
    assert.ok(files.length > 100, `found only ${files.length} source files under internal/`);
    const plain: string[] = [];
    for (const file of files) {
      const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (/\bthrow new Error\(/.test(line)) plain.push(`${file}:${i + 1}`);
      });
    }
    assert.deepEqual(plain, [], `plain Error thrown at:\n${plain.join('\n')}`);
  });

  void it('a malformed or twice-registered watcher is a WatcherDefinitionError', () => {
    const registry = new Registry();
    registry.register(watcher('fine'));
    assert.throws(
      () => registry.register(watcher('fine')),
      (err: unknown) =>
        err instanceof WatcherDefinitionError &&
        err.code === 'WATCHER_INVALID' &&
        /"fine" is registered twice/.test(err.message),
    );
    assert.throws(
      () => registry.register(watcher('Not A Name')),
      (err: unknown) => err instanceof WatcherDefinitionError && /must match/.test(err.message),
    );
  });

  void it('starting work on a busy lane is an IllegalStateError', () => {
    const lanes = new Lanes(['a', 'b'] as const);
    let release: () => void = () => undefined;
    lanes.start(0, () => new Promise<void>((r) => (release = r)));
    assert.throws(
      () => lanes.start(0, () => Promise.resolve()),
      (err: unknown) => err instanceof IllegalStateError && err.code === 'ILLEGAL_STATE',
    );
    release();
  });

  void it('a database clock without a usable time is an UnexpectedResultError', async () => {
    const answering = (rows: unknown[]) =>
      ({ query: () => Promise.resolve([rows, []]) }) as unknown as PoolConnection;
    for (const rows of [[{ now: null }], [], [{ now: 'soon' }]]) {
      await assert.rejects(
        readDbClock(answering(rows)),
        (err: unknown) =>
          err instanceof UnexpectedResultError &&
          err.code === 'DB_UNEXPECTED_RESULT' &&
          /no usable UNIX_TIMESTAMP/.test(err.message),
        JSON.stringify(rows),
      );
    }
    const clock = await readDbClock(answering([{ now: '1700000000' }]));
    assert.equal(clock.nowSeconds, 1_700_000_000);
    assert.equal(clock.daysAgo(1), 1_700_000_000 - 86_400);
  });
});
