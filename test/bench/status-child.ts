/**
 * One replica of the status benchmark: drains the `jobs` table of database argv[2] with the status
 * recipe (Redis prefix argv[3], instance argv[4], handler sleep argv[5] ms, concurrency argv[6]), then
 * prints {seconds, done, rssGrowthMB, heapGrowthMB} as JSON. With argv[7] = `latency`, runs until
 * SIGTERM instead and prints the pick-up delays (handler start minus the row's createdAt, ms). The
 * poll interval is the default 1 s, 100 ms for the latency run (argv[8] overrides).
 */
import { pino } from 'pino';
import { StatusWorker } from '../../internal/watcher/kit/status-worker.js';
import { createRedisRowClaims } from '../../internal/watcher/lock/index.js';
import { createPool } from '../helpers/mysql.js';
import { testRedis } from '../helpers/redis.js';

const [dbName = '', prefix = '', instance = 'a', sleepArg = '0', concArg = '4', mode = 'drain', pollArg] =
  process.argv.slice(2);
const sleepMs = Number(sleepArg);
const pool = createPool(dbName);
const redis = testRedis(undefined, undefined, { commandTimeout: 5000 });
const delays: number[] = [];
// RSS after the first 2,000 rows (modules loaded, code warm) to the end: the growth with row count.
let rssWarm: number | undefined;
let heapWarm: number | undefined;
let heapTotalWarm = 0;
/** The heap after a full collection (node --expose-gc): what the process really keeps. */
function liveHeap(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  gc();
  return process.memoryUsage().heapUsed;
}
const worker = new StatusWorker({
  watcher: 'jobs',
  table: { table: 'jobs', key: 'id', statusColumn: 'status', todo: ['pending'], done: 'normal' },
  handle: async (row) => {
    if (mode === 'latency') delays.push(Date.now() - new Date(row.createdAt as string).getTime());
    if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
  },
  options: {},
  settings: {
    dryRun: false,
    batchSize: 100,
    pollIntervalMs: Number(pollArg ?? (mode === 'latency' ? 100 : 1000)),
    concurrency: Number(concArg),
    leaseMs: 30_000,
    maxAttempts: 5,
    backoffMs: 10_000,
    backoffMaxMs: 600_000,
    timeoutMs: 0,
  },
  db: pool,
  claims: createRedisRowClaims({ redis, keyPrefix: prefix, watcher: 'jobs', instanceId: instance }),
  logger: pino({ level: 'silent' }),
  instanceId: instance,
});
const t0 = performance.now();
if (mode === 'latency') {
  worker.start();
  await new Promise((r) => process.once('SIGTERM', r));
  await worker.stop(5000);
  console.log(JSON.stringify({ delays }));
} else {
  // RSS every 50 ms from the warm point: the growth over the second half of the drain says whether
  // memory grows with the rows handled (it should not) or only while the process warms up.
  const rssTrail: Array<[number, number]> = [];
  const sampler = setInterval(() => {
    if (rssWarm === undefined && worker.totals.done >= 2000) {
      rssWarm = process.memoryUsage().rss;
      heapWarm = liveHeap();
      heapTotalWarm = process.memoryUsage().heapTotal;
    }
    if (rssWarm !== undefined) rssTrail.push([performance.now(), process.memoryUsage().rss]);
  }, 50);
  const totals = await worker.drain();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const rssEnd = process.memoryUsage().rss;
  const rssGrowthMB = rssWarm === undefined ? null : (rssEnd - rssWarm) / 2 ** 20;
  const first = rssTrail[0];
  const mid = first && rssTrail.find(([t]) => t >= (first[0] + performance.now()) / 2);
  const rssSecondHalfMB = mid === undefined ? null : (rssEnd - mid[1]) / 2 ** 20;
  const heapEnd = liveHeap();
  const heapGrowthMB =
    heapWarm === undefined || heapEnd === undefined ? null : (heapEnd - heapWarm) / 2 ** 20;
  const u = process.cpuUsage();
  const cpuS = (u.user + u.system) / 1e6;
  // How much of the RSS growth is V8's heap reservation (new space grown for the allocation rate).
  const heapTotalGrowthMB = (process.memoryUsage().heapTotal - heapTotalWarm) / 2 ** 20;
  console.log(
    JSON.stringify({
      seconds,
      done: totals.done,
      rssGrowthMB,
      rssSecondHalfMB,
      heapGrowthMB,
      heapTotalGrowthMB,
      cpuS,
    }),
  );
}
await pool.end();
redis.disconnect();
