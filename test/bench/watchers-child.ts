/**
 * Child process of the watchers benchmark: runs one job (`task`, `clean`, or `go-original-task`)
 * once against BENCH_DB, the way the daemon would (a real pool, a pino logger), and prints one JSON
 * line with its duration, counts, longest single statement and RSS growth. A process of its own so
 * that RSS growth is the job's and nothing else's.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { cleanWatcher } from '../../internal/watcher/watcher/clean/watcher.js';
import { taskWatcher } from '../../internal/watcher/watcher/task/watcher.js';
import { runCounts } from '../../internal/watcher/watcher/registry.js';
import type { AnyWatcher } from '../../internal/watcher/watcher/registry.js';
import { createPool } from '../helpers/mysql.js';
import { goOriginalTask } from './go-original-task.js';

/** Times every statement sent through `pool.query` or a connection taken from the pool. */
function instrument(pool: Pool): {
  longest: () => { ms: number; sql: string };
  count: () => number;
  byKind: Map<string, number>;
} {
  let longest = { ms: 0, sql: '' };
  let count = 0;
  const byKind = new Map<string, number>();
  const timed = <F extends (...args: never[]) => Promise<unknown>>(fn: F): F =>
    (async (...args: Parameters<F>) => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        const ms = performance.now() - start;
        count += 1;
        const first: unknown = args[0];
        const sql = typeof first === 'string' ? first.replace(/\s+/g, ' ') : 'COMMIT';
        byKind.set(sql.slice(0, 30), (byKind.get(sql.slice(0, 30)) ?? 0) + ms);
        if (ms > longest.ms) longest = { ms, sql: sql.slice(0, 80) };
      }
    }) as F;
  const seen = new WeakSet<PoolConnection>();
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = async () => {
    const conn = await getConnection();
    if (!seen.has(conn)) {
      seen.add(conn);
      conn.query = timed<typeof conn.query>(conn.query.bind(conn));
      conn.commit = timed<typeof conn.commit>(conn.commit.bind(conn));
    }
    return conn;
  };
  pool.query = timed<typeof pool.query>(pool.query.bind(pool));
  return { longest: () => longest, count: () => count, byKind };
}

/** The benchmark pool's size (the daemon's default is 100; a run takes at most three). */
const POOL_CONNECTIONS = 10;

const WATCHERS: Record<string, AnyWatcher> = { task: taskWatcher, clean: cleanWatcher };

async function main(): Promise<void> {
  const job = process.env['BENCH_JOB'] ?? '';
  const options = JSON.parse(process.env['BENCH_OPTIONS'] ?? '{}') as Record<string, unknown>;
  const batchSize = Number(process.env['BENCH_BATCH_SIZE'] ?? 1000);
  // The daemon's pool holds up to mysql.max-open-connections (100 by default); a run takes at most
  // three (task: a reader and two writers).
  const pool = createPool(process.env['BENCH_DB'] ?? '', { connectionLimit: POOL_CONNECTIONS });
  try {
    await pool.query('SELECT 1');
    const timing = instrument(pool);
    const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
    global.gc?.();
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 5);
    const start = performance.now();
    let counts: unknown;
    try {
      if (job === 'go-original-task') {
        counts = await goOriginalTask(pool, Number(options['maxInactiveDays']), Number(options['limit']));
      } else {
        const watcher = WATCHERS[job];
        if (!watcher) throw new Error(`unknown BENCH_JOB ${job}`);
        const counted: Record<string, number> = {};
        const returned = await watcher.run({
          watcher: job,
          slot: new Date(),
          instanceId: 'bench',
          logger: logger.child({ watcher: job }),
          signal: new AbortController().signal,
          options: {
            ...Object.fromEntries(Object.entries(watcher.options).map(([k, f]) => [k, f.default])),
            ...options,
          },
          settings: { dryRun: false, batchSize },
          db: pool,
          dbConnectionLimit: POOL_CONNECTIONS,
          count: (action, n) => {
            counted[action] = (counted[action] ?? 0) + n;
          },
        });
        counts = runCounts(returned, counted);
      }
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - start) / 1000;
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    const out = {
      seconds,
      counts,
      statements: timing.count(),
      longestStatementMs: timing.longest().ms,
      longestStatement: timing.longest().sql,
      rssGrowthMB: (rssPeak - rssBefore) / 2 ** 20,
      msByStatement: Object.fromEntries([...timing.byKind].map(([k, ms]) => [k, Math.round(ms)])),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await pool.end();
  }
}

await main();
