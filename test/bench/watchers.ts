/**
 * Benchmark "watchers": the task and clean watchers on BENCH_ROWS users and BENCH_ROWS policy_audit
 * rows (default 1,000,000), each against the database floor (one set-based statement on the same,
 * restored data) and, for task, the Go original's algorithm. Writes test/bench/results/watchers.json.
 *
 * The daemon's runs and the floor alternate, BENCH_REPEAT times each (default 3), each after the same
 * restore; the JSON holds medians (the longest statement and RSS growth: the worst run).
 *
 * Run: `node --import tsx test/bench/watchers.ts` (BENCH_ROWS, BENCH_BATCH_SIZE, BENCH_REPEAT;
 * MYSQL_TEST_* as the integration tests).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { createTestDatabase } from '../helpers/mysql.js';

const exec = promisify(execFile);
const CHILD = fileURLToPath(new URL('./watchers-child.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/watchers.json', import.meta.url));
const INACTIVE_DAYS = 90;
const RESERVE_DAYS = 180;
const GO_SAMPLE = 100_000;
const CHUNK = 100_000;
const MB = 2 ** 20;

/** What the child prints. */
interface ChildResult {
  seconds: number;
  counts: Record<string, number>;
  statements: number;
  longestStatementMs: number;
  longestStatement: string;
  rssGrowthMB: number;
}

// Deterministic per-row choices from CRC32 of the row number, so restores regenerate the same rows.
const pick = (salt: string, percent: number): string => `CRC32(CONCAT('${salt}', seq)) % 100 < ${percent}`;

/** Users: 30% inactive (> 90 days), 5% admins, 2% never logged in (created long ago if inactive). */
const USERS_SELECT = `
  SELECT seq, CONCAT('user', seq), 1, CONCAT('nick', seq), REPEAT('p', 60), CONCAT('user', seq, '@example.com'),
         IF(${pick('a', 5)}, 1, 0),
         IF(${pick('n', 2)}, NULL,
            IF(${pick('i', 30)}, NOW() - INTERVAL (91 + seq % 900) DAY, NOW() - INTERVAL (seq % 89) DAY)),
         IF(${pick('n', 2)} AND NOT ${pick('i', 30)}, NOW() - INTERVAL (seq % 89) DAY,
            NOW() - INTERVAL (1000 + seq % 500) DAY)
  FROM seq_1_to_{{N}} WHERE seq BETWEEN ? AND ?`;

/** Audit rows: half deleted more than 180 days ago, ids not in deletedAt order, ~500-byte shadow. */
const AUDIT_SELECT = `
  SELECT seq, NULL, CONCAT('policy', seq), CONCAT('user', seq),
         RPAD(CONCAT('{"statements":[{"effect":"allow","resource":"res:', seq, '","actions":["'), 500, 'x'), NULL,
         NOW() - INTERVAL 1000 DAY, NOW() - INTERVAL 1000 DAY,
         IF(${pick('o', 50)}, NOW() - INTERVAL (181 + seq % 500) DAY, NOW() - INTERVAL (seq % 179) DAY)
  FROM seq_1_to_{{N}} WHERE seq BETWEEN ? AND ? {{FILTER}}`;

async function inChunks(pool: Pool, rows: number, sql: string): Promise<void> {
  for (let lo = 1; lo <= rows; lo += CHUNK) {
    await pool.query(sql.replace('{{N}}', String(rows)), [lo, Math.min(rows, lo + CHUNK - 1)]);
  }
}

/** Inserts `rows` users (ids 1..rows) as the benchmark generates them. */
export async function generateUsers(pool: Pool, rows: number): Promise<void> {
  await inChunks(
    pool,
    rows,
    `INSERT INTO user (id, name, status, nickname, password, email, isAdmin, loginedAt, createdAt) ${USERS_SELECT}`,
  );
}

async function generate(pool: Pool, rows: number): Promise<void> {
  await generateUsers(pool, rows);
  await inChunks(pool, rows, `INSERT INTO policy_audit ${AUDIT_SELECT.replace('{{FILTER}}', '')}`);
}

/** Enables every user again (the generated data has no disabled user). */
export async function restoreUsers(pool: Pool): Promise<void> {
  await pool.query('UPDATE user SET status = 1 WHERE status = 0');
}

async function restoreAudit(pool: Pool, rows: number): Promise<void> {
  await inChunks(
    pool,
    rows,
    `INSERT IGNORE INTO policy_audit ${AUDIT_SELECT.replace('{{FILTER}}', `AND ${pick('o', 50)}`)}`,
  );
}

/**
 * Waits (at most 120 s) until InnoDB has purged the undo history of earlier runs: a purge of half a
 * million deleted rows runs in the background for many seconds, and would slow whichever measurement
 * came next.
 */
async function waitForPurge(pool: Pool): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [rows] = await pool.query<RowDataPacket[]>(
      "SELECT `count` AS n FROM information_schema.INNODB_METRICS WHERE name = 'trx_rseg_history_len'",
    );
    if (Number(rows[0]?.['n'] ?? 0) < 1000) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Lets the purge of earlier runs finish, then reads the whole table through its clustered index, so
 * that every measured run starts from the same state (the last pages read, no background purge),
 * whatever ran before it.
 */
export async function settle(pool: Pool, table: 'user' | 'policy_audit'): Promise<void> {
  await waitForPurge(pool);
  await pool.query(`SELECT COUNT(*) FROM ${table} WHERE updatedAt IS NOT NULL`);
}

/** Times one statement; returns seconds and the rows it changed. */
async function timed(pool: Pool, sql: string): Promise<{ seconds: number; changed: number }> {
  const start = performance.now();
  const [r] = await pool.query<ResultSetHeader>(sql);
  return { seconds: (performance.now() - start) / 1000, changed: r.affectedRows };
}

async function child(db: string, job: string, options: object, batchSize: number): Promise<ChildResult> {
  const { stdout } = await exec(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      BENCH_DB: db,
      BENCH_JOB: job,
      BENCH_OPTIONS: JSON.stringify(options),
      BENCH_BATCH_SIZE: String(batchSize),
    },
    maxBuffer: 16 * MB,
  });
  if (process.env['BENCH_VERBOSE']) console.log(job, stdout.trim());
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ChildResult;
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/** The middle value (the mean of the two middle ones for an even count). */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** `median (min-max)` of seconds, for the console. */
const spread = (xs: readonly number[]): string =>
  `${round(median(xs))} (${round(Math.min(...xs))}-${round(Math.max(...xs))})`;

/**
 * Runs `measure` for the daemon and for the floor `repeat` times each, alternating which goes first,
 * each on the same data: `prepare` restores it and reads it through before every measurement, so
 * neither side inherits the other's dirty pages or the generator's. One run of each on a host shared
 * with other work is noise: the medians are what is reported.
 */
async function alternate<D>(
  repeat: number,
  prepare: () => Promise<void>,
  daemon: () => Promise<D>,
  floor: () => Promise<{ seconds: number; changed: number }>,
): Promise<{ daemon: D[]; floor: { seconds: number; changed: number }[] }> {
  const out: { daemon: D[]; floor: { seconds: number; changed: number }[] } = { daemon: [], floor: [] };
  for (let i = 0; i < repeat; i++) {
    const order = i % 2 === 0 ? (['daemon', 'floor'] as const) : (['floor', 'daemon'] as const);
    for (const side of order) {
      await prepare();
      if (side === 'daemon') out.daemon.push(await daemon());
      else out.floor.push(await floor());
    }
  }
  return out;
}

/** The run with the median duration. */
function medianRun(runs: readonly ChildResult[]): ChildResult {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run) throw new Error('no runs');
  return run;
}

/** Runs the benchmark, prints a table, writes test/bench/results/watchers.json and returns the figures. */
export async function runWatchersBench(): Promise<object> {
  const rows = Number(process.env['BENCH_ROWS'] ?? 1_000_000);
  const batchSize = Number(process.env['BENCH_BATCH_SIZE'] ?? 1000);
  const repeat = Number(process.env['BENCH_REPEAT'] ?? 3);
  const db = await createTestDatabase();
  const { pool } = db;
  try {
    let t = performance.now();
    await generate(pool, rows);
    console.log(
      `generated ${rows} users and ${rows} audit rows in ${round((performance.now() - t) / 1000)} s`,
    );

    const taskOptions = { maxInactiveDays: INACTIVE_DAYS };
    const taskRuns = await alternate(
      repeat,
      async () => {
        await restoreUsers(pool);
        await settle(pool, 'user');
      },
      () => child(db.name, 'task', taskOptions, batchSize),
      () =>
        timed(
          pool,
          `UPDATE user SET status = 0 WHERE status = 1 AND isAdmin = 0
             AND COALESCE(UNIX_TIMESTAMP(loginedAt), UNIX_TIMESTAMP(createdAt)) < UNIX_TIMESTAMP() - ${INACTIVE_DAYS * 86_400}`,
        ),
    );
    await restoreUsers(pool);
    const sample = Math.min(rows, GO_SAMPLE);
    await settle(pool, 'user');
    const go = await child(db.name, 'go-original-task', { ...taskOptions, limit: sample }, batchSize);
    await restoreUsers(pool);

    t = performance.now();
    const cleanRuns = await alternate(
      repeat,
      async () => {
        await restoreAudit(pool, rows);
        await settle(pool, 'policy_audit');
      },
      () => child(db.name, 'clean', { maxReserveDays: RESERVE_DAYS }, batchSize),
      () =>
        timed(
          pool,
          `DELETE FROM policy_audit WHERE UNIX_TIMESTAMP(deletedAt) < UNIX_TIMESTAMP() - ${RESERVE_DAYS * 86_400}`,
        ),
    );
    console.log(`clean runs with restores took ${round((performance.now() - t) / 1000)} s`);

    const task = medianRun(taskRuns.daemon);
    const clean = medianRun(cleanRuns.daemon);
    const longest = (runs: ChildResult[], key: 'longestStatementMs' | 'rssGrowthMB'): number =>
      Math.max(...runs.map((r) => r[key]));
    const result = {
      rows,
      task: {
        seconds: round(task.seconds),
        floorSeconds: round(median(taskRuns.floor.map((f) => f.seconds))),
        goOriginalSeconds: round((go.seconds * rows) / sample),
        goOriginalScaled: sample < rows,
        changed: Number(task.counts['disabled']),
        longestStatementMs: round(longest(taskRuns.daemon, 'longestStatementMs'), 1),
        rssGrowthMB: round(longest(taskRuns.daemon, 'rssGrowthMB'), 1),
      },
      clean: {
        seconds: round(clean.seconds),
        floorSeconds: round(median(cleanRuns.floor.map((f) => f.seconds))),
        changed: Number(clean.counts['deleted']),
        longestStatementMs: round(longest(cleanRuns.daemon, 'longestStatementMs'), 1),
        rssGrowthMB: round(longest(cleanRuns.daemon, 'rssGrowthMB'), 1),
      },
    };
    report(result, {
      task,
      go,
      clean,
      batchSize,
      floorChanged: [taskRuns.floor[0]?.changed ?? 0, cleanRuns.floor[0]?.changed ?? 0],
    });
    console.log(
      `${repeat} runs each, median (min-max) seconds; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n` +
        `  task ${spread(taskRuns.daemon.map((r) => r.seconds))} vs floor ${spread(taskRuns.floor.map((f) => f.seconds))}\n` +
        `  clean ${spread(cleanRuns.daemon.map((r) => r.seconds))} vs floor ${spread(cleanRuns.floor.map((f) => f.seconds))}`,
    );
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await db.drop();
  }
}

interface Details {
  task: ChildResult;
  go: ChildResult;
  clean: ChildResult;
  batchSize: number;
  floorChanged: number[];
}

function report(
  r: { rows: number; task: Record<string, unknown>; clean: Record<string, unknown> },
  d: Details,
): void {
  const rate = (s: number): string => `${Math.round(r.rows / s).toLocaleString('en-US')}`;
  console.log(`\nwatchers benchmark: ${r.rows} rows, batch-size ${d.batchSize}`);
  console.table({
    'task (daemon)': {
      seconds: r.task['seconds'],
      'rows/s': rate(d.task.seconds),
      changed: r.task['changed'],
      'longest stmt ms': r.task['longestStatementMs'],
      statements: d.task.statements,
      'RSS growth MB': r.task['rssGrowthMB'],
    },
    'task floor (1 UPDATE)': { seconds: r.task['floorSeconds'], changed: d.floorChanged[0] },
    'task Go original': {
      seconds: r.task['goOriginalSeconds'],
      scaled: r.task['goOriginalScaled'],
      'longest stmt ms': round(d.go.longestStatementMs, 1),
      'RSS growth MB': round(d.go.rssGrowthMB, 1),
    },
    'clean (daemon)': {
      seconds: r.clean['seconds'],
      'rows/s': rate(d.clean.seconds),
      changed: r.clean['changed'],
      'longest stmt ms': r.clean['longestStatementMs'],
      statements: d.clean.statements,
      'RSS growth MB': r.clean['rssGrowthMB'],
    },
    'clean floor (1 DELETE)': { seconds: r.clean['floorSeconds'], changed: d.floorChanged[1] },
  });
  console.log(`longest task statement: ${d.task.longestStatement}`);
  console.log(`longest clean statement: ${d.clean.longestStatement}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runWatchersBench();
}
