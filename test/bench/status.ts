/**
 * Benchmark "status" (`make bench-status`): status watchers against the floor, in one run.
 * - floor: a batched `UPDATE jobs SET status='normal' WHERE status='pending' LIMIT 100` loop (no claim);
 * - no-op handler, BENCH_STATUS_ROWS rows (default 100,000), 1 and 3 replicas (child processes): rows/s;
 * - 10 ms handler, 3 replicas x concurrency 4 on 12,000 rows: rows/s against the ideal 3 x 4 x 100/s;
 * - pick-up latency: 1 replica running while rows are inserted at 200/s for 5 s: p50, p99;
 * - RSS growth of each replica over its drain (from its 2,000th row), and over the drain's second half;
 * - the replicas' CPU seconds (start-up included);
 * - the 1-replica drain again with V8's young generation capped (`--max-semi-space-size=2`).
 * Writes test/bench/results/status.json.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { createTestDatabase } from '../helpers/mysql.js';
import { randomPrefix } from '../helpers/redis.js';

const exec = promisify(execFile);
const CHILD = fileURLToPath(new URL('./status-child.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/status.json', import.meta.url));
const ROWS = Number(process.env.BENCH_STATUS_ROWS ?? 100_000);

async function fill(pool: Pool, rows: number): Promise<void> {
  await pool.query('DROP TABLE IF EXISTS jobs');
  await pool.query(
    "CREATE TABLE jobs (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL DEFAULT 'pending', createdAt TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), KEY (status, id))",
  );
  for (let from = 1; from <= rows; from += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, rows - from + 1) }, (_, i) => [from + i]);
    await pool.query('INSERT INTO jobs (id) VALUES ?', [ids]);
  }
}

async function floor(pool: Pool): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for (;;) {
    const [r] = await pool.query<ResultSetHeader>(
      "UPDATE jobs SET status = 'normal' WHERE status = 'pending' LIMIT 100",
    );
    if (r.affectedRows === 0) break;
    n += r.affectedRows;
  }
  return n / ((performance.now() - t0) / 1000);
}

interface Drain {
  seconds: number;
  done: number;
  rssGrowthMB: number | null;
  rssSecondHalfMB: number | null;
  heapGrowthMB: number | null;
  cpuS: number;
}

async function replicas(
  db: string,
  n: number,
  sleepMs: number,
  nodeFlags: readonly string[] = [],
): Promise<{
  rowsPerS: number;
  done: number;
  rssGrowthMB: number;
  rssSecondHalfMB: number;
  heapGrowthMB: number;
  cpuS: number;
}> {
  const prefix = randomPrefix();
  const outs = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      exec(
        process.execPath,
        [...nodeFlags, '--expose-gc', '--import', 'tsx', CHILD, db, prefix, `r${i}`, String(sleepMs), '4'],
        {
          maxBuffer: 1 << 24,
        },
      ),
    ),
  );
  const r = outs.map((o) => JSON.parse(o.stdout.trim().split('\n').pop() ?? '{}') as Drain);
  const done = r.reduce((s, x) => s + x.done, 0);
  // Rows over the longest replica's drain (from its first claim to its end; process start-up aside).
  const seconds = Math.max(...r.map((x) => x.seconds));
  return {
    rowsPerS: done / seconds,
    done,
    rssGrowthMB: Math.max(...r.map((x) => x.rssGrowthMB ?? 0)),
    rssSecondHalfMB: Math.max(...r.map((x) => x.rssSecondHalfMB ?? 0)),
    heapGrowthMB: Math.max(...r.map((x) => x.heapGrowthMB ?? 0)),
    cpuS: r.reduce((s, x) => s + x.cpuS, 0),
  };
}

async function pickUp(pool: Pool, db: string): Promise<{ p50: number; p99: number; n: number }> {
  await fill(pool, 0);
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    CHILD,
    db,
    randomPrefix(),
    'lat',
    '0',
    '4',
    'latency',
  ]);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => setTimeout(r, 3000));
  let id = 1;
  for (let t = 0; t < 50; t++) {
    const ids = Array.from({ length: 20 }, () => [id++]);
    await pool.query('INSERT INTO jobs (id) VALUES ?', [ids]);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const delays = (
    JSON.parse(out.trim().split('\n').pop() ?? '{"delays":[]}') as { delays: number[] }
  ).delays.sort((a, b) => a - b);
  const q = (p: number): number => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), n: delays.length };
}

/** Runs the status benchmark and prints it. */
export async function runStatusBench(): Promise<unknown> {
  const db = await createTestDatabase();
  try {
    await fill(db.pool, ROWS);
    const floorRowsPerS = await floor(db.pool);
    await fill(db.pool, ROWS);
    const one = await replicas(db.name, 1, 0);
    await fill(db.pool, ROWS);
    const three = await replicas(db.name, 3, 0);
    // The same drain with V8's young generation capped at 2 MB semi-spaces: how much of the RSS
    // growth is the young generation growing to its default maximum (16 MB semi-spaces) under load.
    await fill(db.pool, ROWS);
    const capped = await replicas(db.name, 1, 0, ['--max-semi-space-size=2']);
    await fill(db.pool, 12_000);
    const slow = await replicas(db.name, 3, 10);
    const ideal = 3 * 4 * 100;
    const latency = await pickUp(db.pool, db.name);
    const result = {
      rows: ROWS,
      floorRowsPerS: Math.round(floorRowsPerS),
      noop1: { rowsPerS: Math.round(one.rowsPerS), ofFloor: one.rowsPerS / floorRowsPerS, done: one.done },
      noop3: {
        rowsPerS: Math.round(three.rowsPerS),
        ofFloor: three.rowsPerS / floorRowsPerS,
        done: three.done,
      },
      handler10ms: {
        rowsPerS: Math.round(slow.rowsPerS),
        ideal,
        ofIdeal: slow.rowsPerS / ideal,
        done: slow.done,
      },
      pickUpMs: latency,
      rssGrowthMB: { noop1: one.rssGrowthMB, noop3: three.rssGrowthMB },
      rssSecondHalfMB: { noop1: one.rssSecondHalfMB, noop3: three.rssSecondHalfMB },
      semiSpace2MB: {
        rowsPerS: Math.round(capped.rowsPerS),
        rssGrowthMB: capped.rssGrowthMB,
        cpuS: capped.cpuS,
      },
      replicaCpuS: { noop1: one.cpuS, noop3: three.cpuS },
      liveHeapGrowthMB: { noop1: one.heapGrowthMB, noop3: three.heapGrowthMB },
    };
    console.log(`floor (UPDATE ... LIMIT 100 loop): ${result.floorRowsPerS} rows/s`);
    console.log(
      `no-op, 1 replica : ${result.noop1.rowsPerS} rows/s (${(result.noop1.ofFloor * 100).toFixed(0)}% of floor)`,
    );
    console.log(
      `no-op, 3 replicas: ${result.noop3.rowsPerS} rows/s (${(result.noop3.ofFloor * 100).toFixed(0)}% of floor)`,
    );
    console.log(
      `10 ms, 3 x 4     : ${result.handler10ms.rowsPerS} rows/s of ideal ${ideal} (${(result.handler10ms.ofIdeal * 100).toFixed(0)}%)`,
    );
    console.log(`pick-up latency  : p50 ${latency.p50} ms, p99 ${latency.p99} ms (${latency.n} rows)`);
    console.log(
      `RSS, second half : ${one.rssSecondHalfMB.toFixed(1)} MB (1 replica), ${three.rssSecondHalfMB.toFixed(1)} MB (worst of 3): growth over the second half of the drain`,
    );
    console.log(
      `young gen capped : ${Math.round(capped.rowsPerS)} rows/s, RSS growth ${capped.rssGrowthMB.toFixed(1)} MB, CPU ${capped.cpuS.toFixed(1)} s (1 replica, node --max-semi-space-size=2)`,
    );
    console.log(
      `replica CPU      : ${one.cpuS.toFixed(1)} s (1 replica), ${three.cpuS.toFixed(1)} s (3 replicas together), start-up included`,
    );
    console.log(
      `RSS growth       : ${one.rssGrowthMB.toFixed(1)} MB (1 replica), ${three.rssGrowthMB.toFixed(1)} MB (worst of 3); live heap after GC ${one.heapGrowthMB.toFixed(1)} / ${three.heapGrowthMB.toFixed(1)} MB`,
    );
    await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await db.drop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runStatusBench();
