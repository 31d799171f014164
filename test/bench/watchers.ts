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

/**
 * Rebuilds policy_audit from scratch. Not an `INSERT IGNORE` of the deleted half: rows put back into
 * pages that purge has half emptied split them, and each such restore left the table more fragmented
 * (measured: the one-statement DELETE went from 3.9 s on the generated table to 9.9 s after two
 * restores), so later measurements ran on a different table than earlier ones.
 */
async function restoreAudit(pool: Pool, rows: number): Promise<void> {
  await pool.query('TRUNCATE TABLE policy_audit');
  await inChunks(pool, rows, `INSERT INTO policy_audit ${AUDIT_SELECT.replace('{{FILTER}}', '')}`);
}

/** Undo logs (committed transactions) whose rows InnoDB has not purged yet. */
async function historyLength(pool: Pool): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(
    "SELECT `count` AS n FROM information_schema.INNODB_METRICS WHERE name = 'trx_rseg_history_len'",
  );
  return Number(rows[0]?.['n'] ?? 0);
}

/**
 * Waits (at most 300 s) until InnoDB has purged the undo history of earlier statements, and returns
 * the seconds it took. The history length counts transactions, not rows: the one-statement floor
 * leaves a history of 1 that stands for half a million rows, so only 0 means done (the test server
 * is otherwise idle).
 */
async function waitForPurge(pool: Pool): Promise<number> {
  const start = performance.now();
  const deadline = start + 300_000;
  while ((await historyLength(pool)) > 0) {
    if (performance.now() > deadline) {
      console.warn('warning: InnoDB purge still running after 300 s; measurements may overlap it');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return (performance.now() - start) / 1000;
}

/**
 * Runs `fn` with InnoDB purge held off: a read view stays open on another connection, so no undo
 * log committed meanwhile can be purged until it closes.
 *
 * Why: purge is the background half of every DELETE (it removes the delete-marked records). The
 * one-statement floor cannot be purged before it commits, so its timing never includes purge; a
 * batched run commits every batch and purge starts at once, on the same two cores and buffer pool
 * (measured: the same range-by-range DELETEs took 3.2-3.4 s with purge alongside, 2.5 s without,
 * against 1.5-1.8 s for the floor). Held off for both sides, the timings compare the statements' own
 * work; the purge each side leaves behind is timed afterwards and reported beside them.
 * `BENCH_PURGE=concurrent` measures with purge running alongside instead.
 */
async function withPurgeHeld<T>(pool: Pool, fn: () => Promise<T>): Promise<T> {
  if (process.env['BENCH_PURGE'] === 'concurrent') return fn();
  const view = await pool.getConnection();
  try {
    await view.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    return await fn();
  } finally {
    await view.query('COMMIT');
    view.release();
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

/** One measurement and the purge it left behind (timed after it, see {@link withPurgeHeld}). */
interface Measured<R> {
  readonly result: R;
  readonly purgeSeconds: number;
}

type FloorResult = { seconds: number; changed: number };

/**
 * Runs the daemon and the floor `repeat` times each, alternating which goes first, each on the same
 * data: `prepare` restores it and reads it through before every measurement, so neither side
 * inherits the other's dirty pages, purge or the generator's. Each is timed with purge held off and
 * then its purge is timed. One run of each on a host shared with other work is noise: the medians
 * are what is reported.
 */
async function alternate<D>(
  repeat: number,
  pool: Pool,
  prepare: () => Promise<void>,
  daemon: () => Promise<D>,
  floor: () => Promise<FloorResult>,
): Promise<{ daemon: Measured<D>[]; floor: Measured<FloorResult>[] }> {
  const out: { daemon: Measured<D>[]; floor: Measured<FloorResult>[] } = { daemon: [], floor: [] };
  for (let i = 0; i < repeat; i++) {
    const order = i % 2 === 0 ? (['daemon', 'floor'] as const) : (['floor', 'daemon'] as const);
    for (const side of order) {
      await prepare();
      if (side === 'daemon') {
        const result = await withPurgeHeld(pool, daemon);
        out.daemon.push({ result, purgeSeconds: await waitForPurge(pool) });
      } else {
        const result = await withPurgeHeld(pool, floor);
        out.floor.push({ result, purgeSeconds: await waitForPurge(pool) });
      }
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

/**
 * Sets the server's InnoDB buffer pool to `BENCH_BUFFER_POOL_MB` for the benchmark (it is resizable
 * at run time) and returns a function that puts the previous size back; without the variable the
 * server is left as it is. The Debian package's default, 128 MB, holds a fifth of the benchmark's
 * policy_audit table: every statement then waits on disk reads, which measures the disk.
 */
async function sizeBufferPool(pool: Pool): Promise<() => Promise<void>> {
  const wanted = Number(process.env['BENCH_BUFFER_POOL_MB'] ?? 0);
  const [rows] = await pool.query<RowDataPacket[]>('SELECT @@GLOBAL.innodb_buffer_pool_size AS size');
  const previous = Number(rows[0]?.['size']);
  console.log(`InnoDB buffer pool: ${Math.round(previous / MB)} MB`);
  if (!(wanted > 0) || wanted * MB === previous) return async () => {};
  await pool.query('SET GLOBAL innodb_buffer_pool_size = ?', [wanted * MB]);
  console.log(`InnoDB buffer pool set to ${wanted} MB for the benchmark (BENCH_BUFFER_POOL_MB)`);
  return async () => {
    await pool.query('SET GLOBAL innodb_buffer_pool_size = ?', [previous]);
  };
}

/** Medians of a side's measurements. */
function medians<R>(runs: readonly Measured<R>[], seconds: (r: R) => number): { run: number; purge: number } {
  return { run: median(runs.map((m) => seconds(m.result))), purge: median(runs.map((m) => m.purgeSeconds)) };
}

/** Runs the benchmark, prints a table, writes test/bench/results/watchers.json and returns the figures. */
export async function runWatchersBench(): Promise<object> {
  const rows = Number(process.env['BENCH_ROWS'] ?? 1_000_000);
  const batchSize = Number(process.env['BENCH_BATCH_SIZE'] ?? 1000);
  const repeat = Number(process.env['BENCH_REPEAT'] ?? 3);
  const purge = process.env['BENCH_PURGE'] === 'concurrent' ? 'concurrent' : 'held';
  const db = await createTestDatabase();
  const { pool } = db;
  const restorePool = await sizeBufferPool(pool);
  try {
    let t = performance.now();
    await generate(pool, rows);
    console.log(
      `generated ${rows} users and ${rows} audit rows in ${round((performance.now() - t) / 1000)} s`,
    );

    const taskOptions = { maxInactiveDays: INACTIVE_DAYS };
    const taskRuns = await alternate(
      repeat,
      pool,
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
      pool,
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

    const task = medianRun(taskRuns.daemon.map((m) => m.result));
    const clean = medianRun(cleanRuns.daemon.map((m) => m.result));
    const longest = (runs: Measured<ChildResult>[], key: 'longestStatementMs' | 'rssGrowthMB'): number =>
      Math.max(...runs.map((r) => r.result[key]));
    const figures = (runs: { daemon: Measured<ChildResult>[]; floor: Measured<FloorResult>[] }) => {
      const d = medians(runs.daemon, (r) => r.seconds);
      const f = medians(runs.floor, (r) => r.seconds);
      return {
        floorSeconds: round(f.run),
        purgeSeconds: round(d.purge),
        floorPurgeSeconds: round(f.purge),
        withPurgeSeconds: round(d.run + d.purge),
        floorWithPurgeSeconds: round(f.run + f.purge),
        longestStatementMs: round(longest(runs.daemon, 'longestStatementMs'), 1),
        rssGrowthMB: round(longest(runs.daemon, 'rssGrowthMB'), 1),
      };
    };
    const result = {
      rows,
      purge,
      task: {
        seconds: round(task.seconds),
        goOriginalSeconds: round((go.seconds * rows) / sample),
        goOriginalScaled: sample < rows,
        changed: Number(task.counts['disabled']),
        ...figures(taskRuns),
      },
      clean: {
        seconds: round(clean.seconds),
        changed: Number(clean.counts['deleted']),
        ...figures(cleanRuns),
      },
    };
    report(result, {
      task,
      go,
      clean,
      batchSize,
      floorChanged: [taskRuns.floor[0]?.result.changed ?? 0, cleanRuns.floor[0]?.result.changed ?? 0],
    });
    const secondsOf = (runs: { daemon: Measured<ChildResult>[]; floor: Measured<FloorResult>[] }) =>
      `${spread(runs.daemon.map((m) => m.result.seconds))} vs floor ${spread(runs.floor.map((m) => m.result.seconds))}`;
    console.log(
      `${repeat} runs each, median (min-max) seconds, purge ${purge} while timed; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n` +
        `  task ${secondsOf(taskRuns)}\n` +
        `  clean ${secondsOf(cleanRuns)}`,
    );
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    // The pool goes with the database: put the buffer pool back first.
    await restorePool();
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
  // The daemon's row and its floor's row, alike for both watchers.
  const rows = (w: Record<string, unknown>, child: ChildResult, floorChanged: number | undefined) => [
    {
      seconds: w['seconds'],
      'rows/s': rate(child.seconds),
      changed: w['changed'],
      'longest stmt ms': w['longestStatementMs'],
      statements: child.statements,
      'RSS growth MB': w['rssGrowthMB'],
      'purge after s': w['purgeSeconds'],
      'with purge s': w['withPurgeSeconds'],
    },
    {
      seconds: w['floorSeconds'],
      changed: floorChanged,
      'purge after s': w['floorPurgeSeconds'],
      'with purge s': w['floorWithPurgeSeconds'],
    },
  ];
  const [task, taskFloor] = rows(r.task, d.task, d.floorChanged[0]);
  const [clean, cleanFloor] = rows(r.clean, d.clean, d.floorChanged[1]);
  console.log(`\nwatchers benchmark: ${r.rows} rows, batch-size ${d.batchSize}`);
  console.table({
    'task (daemon)': task,
    'task floor (1 UPDATE)': taskFloor,
    'task Go original': {
      seconds: r.task['goOriginalSeconds'],
      scaled: r.task['goOriginalScaled'],
      'longest stmt ms': round(d.go.longestStatementMs, 1),
      'RSS growth MB': round(d.go.rssGrowthMB, 1),
    },
    'clean (daemon)': clean,
    'clean floor (1 DELETE)': cleanFloor,
  });
  console.log(`longest task statement: ${d.task.longestStatement}`);
  console.log(`longest clean statement: ${d.clean.longestStatement}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runWatchersBench();
}
