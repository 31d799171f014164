/**
 * The watchers give the same result whatever the daemon's TZ: each zone runs them in a child process
 * (`node --import tsx` with TZ set) over the same data, through a pool whose driver and session are
 * deliberately not UTC. The frozen database clock sits the day after the US switched to summer time,
 * so a cutoff computed with local calendar arithmetic would be off by an hour and the ±1 s boundary
 * rows would show it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { createTestDatabase } from '../helpers/mysql.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/run-watchers-child.ts', import.meta.url));
const DAY = 86_400;
const NOW = Date.UTC(2025, 2, 10, 12, 0, 0) / 1000;

async function load(pool: Pool): Promise<void> {
  const users: [string, number | null, number][] = [
    // name, seconds since last login (null = never), seconds since creation
    ['exactly-30d', 30 * DAY, 900 * DAY],
    ['30d-plus-1s', 30 * DAY + 1, 900 * DAY],
    ['30d-minus-1s', 30 * DAY - 1, 900 * DAY],
    ['30d-plus-1h', 30 * DAY + 3600, 900 * DAY],
    ['30d-minus-1h', 30 * DAY - 3600, 900 * DAY],
    ['never-old', null, 31 * DAY],
    ['never-new', null, 29 * DAY],
  ];
  for (const [name, logined, created] of users) {
    await pool.query(
      `INSERT INTO user (name, nickname, password, email, loginedAt, createdAt)
       VALUES (?, ?, 'x', 'x@example.com', FROM_UNIXTIME(?), FROM_UNIXTIME(?))`,
      [name, name, logined === null ? null : NOW - logined, NOW - created],
    );
  }
  const conn = await pool.getConnection();
  try {
    for (const [id, ago] of [
      [1, 180 * DAY + 1],
      [2, 180 * DAY],
      [3, 180 * DAY - 3600],
      [4, 180 * DAY + 3600],
    ] as const) {
      await conn.query(`INSERT INTO policy (id, name, username) VALUES (?, ?, 'never-new')`, [id, `p${id}`]);
      await conn.query('SET timestamp = ?', [NOW - ago]);
      await conn.query('DELETE FROM policy WHERE id = ?', [id]);
      await conn.query('SET timestamp = ?', [NOW]);
    }
  } finally {
    conn.release();
  }
  for (const [name, expires] of [
    ['never', 0],
    ['7d', NOW - 7 * DAY],
    ['7d-plus-1s', NOW - 7 * DAY - 1],
    ['7d-minus-1h', NOW - 7 * DAY + 3600],
  ] as const) {
    await pool.query(
      `INSERT INTO secret (name, username, secretID, secretKey, expires, description)
       VALUES (?, 'never-new', ?, 'k', ?, '')`,
      [name, `id-${name}`, expires],
    );
  }
}

async function state(pool: Pool): Promise<object> {
  const col = async (sql: string): Promise<unknown[]> =>
    (await pool.query<RowDataPacket[]>(sql))[0].map((r): unknown => Object.values(r)[0]);
  return {
    disabled: await col('SELECT name FROM user WHERE status = 0 ORDER BY name'),
    audit: await col('SELECT id FROM policy_audit ORDER BY id'),
    secrets: await col('SELECT name FROM secret ORDER BY name'),
  };
}

async function runUnder(
  tz: string,
  sessionTz: string,
): Promise<{ counts: unknown; offsetMinutes: number; after: object }> {
  const db = await createTestDatabase({ nowSeconds: NOW });
  try {
    await load(db.pool);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, TZ: tz, IAMW_DB: db.name, IAMW_NOW: String(NOW), IAMW_SESSION_TZ: sessionTz },
    });
    const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
      counts: unknown;
      offsetMinutes: number;
    };
    return { ...out, after: await state(db.pool) };
  } finally {
    await db.drop();
  }
}

void describe('watchers under different TZ', () => {
  void it('UTC, America/New_York and Asia/Shanghai give the same, correct result', async () => {
    const [utc, ny, sh] = await Promise.all([
      runUnder('UTC', '+00:00'),
      runUnder('America/New_York', '-04:00'),
      runUnder('Asia/Shanghai', '+08:00'),
    ]);
    assert.equal(utc.offsetMinutes, 0);
    assert.equal(ny.offsetMinutes, 240, 'the child really ran in New York summer time');
    assert.equal(sh.offsetMinutes, -480, 'the child really ran in Shanghai time');
    assert.deepEqual(utc.after, {
      disabled: ['30d-plus-1h', '30d-plus-1s', 'never-old'],
      audit: [2, 3],
      secrets: ['7d', '7d-minus-1h', 'never'],
    });
    assert.deepEqual(utc.counts, {
      task: { disabled: 3, batches: 2, dryRun: false },
      clean: { deleted: 2, batches: 2, dryRun: false },
      cleansecret: { deleted: 1, batches: 2, dryRun: false },
    });
    for (const other of [ny, sh]) {
      assert.deepEqual(other.after, utc.after);
      assert.deepEqual(other.counts, utc.counts);
    }
  });
});
