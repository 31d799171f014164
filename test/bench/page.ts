/**
 * The status page with 20 watchers, as a browser gets it from a spawned daemon (the probe fixture
 * with 20 watchers running every 2 s, so each has a last run, a history and next slots), beside
 * `/healthz` of the same daemon in the same run as the baseline (the listener's own cost):
 *
 * - cold: each request more than a second after the previous one, so the page gathers its Redis
 *   reads afresh every time (its cache lives one second); a `/healthz` request just before each;
 * - cached: requests back to back, served from the gathering of the last second.
 *
 * Target (issue 15): the page answers in under 50 ms with 20 watchers. BENCH_PAGE_RUNS (3),
 * BENCH_PAGE_COLD (25) and BENCH_PAGE_HOT (200) scale it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Instance, sleep } from '../helpers/cluster.js';
import { ROOT, freePort, tempDir, waitHttp, writeConfig } from '../helpers/daemon.js';
import { serverOptions } from '../helpers/mysql.js';
import { deletePrefix, randomPrefix, testRedis } from '../helpers/redis.js';

const RUNS = Number(process.env.BENCH_PAGE_RUNS ?? 3);
const COLD = Number(process.env.BENCH_PAGE_COLD ?? 25);
const HOT = Number(process.env.BENCH_PAGE_HOT ?? 200);
const WATCHERS = 20;

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** One GET, timed to the last byte of the body. */
async function timedGet(url: string): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
  return { ms, body };
}

function configFile(prefix: string, port: number): string {
  const my = serverOptions();
  const soak = Array.from({ length: WATCHERS }, (_, i) => `soak${String(i + 1).padStart(2, '0')}`);
  return writeConfig(
    tempDir('iamw-bench-page-'),
    `health-check-address: 127.0.0.1:${port}
instance-id: bench-page
lock:
  key-prefix: '${prefix}'
mysql:
  host: ${my.host ?? '127.0.0.1'}:${my.port ?? 3306}
  username: ${my.user ?? 'root'}
  password: '${my.password ?? ''}'
  database: mysql
log:
  level: info
watcher:
  task: { enabled: false }
  clean: { enabled: false }
  cleansecret: { enabled: false }
  probe: { enabled: false }
${soak.map((w) => `  ${w}: { enabled: true, schedule: '@every 2s' }`).join('\n')}
`,
  );
}

interface RunFigures {
  healthzMedianMs: number;
  healthzP99Ms: number;
  coldMedianMs: number;
  coldP99Ms: number;
  cachedMedianMs: number;
  cachedP99Ms: number;
}

async function oneRun(base: string): Promise<RunFigures> {
  const healthz: number[] = [];
  const cold: number[] = [];
  for (let i = 0; i < COLD; i++) {
    await sleep(1_100); // past the page's one-second cache
    healthz.push((await timedGet(`${base}/healthz`)).ms);
    cold.push((await timedGet(`${base}/status`)).ms);
  }
  const cached: number[] = [];
  for (let i = 0; i < HOT; i++) {
    healthz.push((await timedGet(`${base}/healthz`)).ms);
    cached.push((await timedGet(`${base}/status`)).ms);
  }
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    healthzMedianMs: r(median(healthz)),
    healthzP99Ms: r(quantile(healthz, 0.99)),
    coldMedianMs: r(median(cold)),
    coldP99Ms: r(quantile(cold, 0.99)),
    cachedMedianMs: r(median(cached)),
    cachedP99Ms: r(quantile(cached, 0.99)),
  };
}

/** Runs the part and returns its figures. */
export async function runPageBench(): Promise<Record<string, unknown>> {
  const prefix = randomPrefix();
  const port = await freePort();
  const daemon = new Instance('bench-page', configFile(prefix, port), port, {
    env: { PROBE_SOAK_WATCHERS: String(WATCHERS) },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await daemon.started(30_000);
    await waitHttp(`${base}/healthz`);
    await sleep(5_000); // every watcher has run and has a history
    const page = (await timedGet(`${base}/status`)).body;
    const cards = page.split('class="card"').length - 1;
    if (cards !== WATCHERS) throw new Error(`the page shows ${cards} watchers, not ${WATCHERS}`);
    const runs: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await oneRun(base));
    const across = (k: keyof RunFigures) => {
      const xs = runs.map((x) => x[k]);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    };
    const out = {
      watchers: WATCHERS,
      runs: RUNS,
      coldRequestsPerRun: COLD,
      cachedRequestsPerRun: HOT,
      pageBytes: Buffer.byteLength(page),
      perRun: runs,
      healthzMedianMs: across('healthzMedianMs'),
      coldMedianMs: across('coldMedianMs'),
      coldP99Ms: across('coldP99Ms'),
      cachedMedianMs: across('cachedMedianMs'),
      cachedP99Ms: across('cachedP99Ms'),
    };
    const row = (label: string, k: keyof RunFigures, target = '') => {
      const a = across(k);
      console.log(
        `  ${label.padEnd(34)} ${a.median.toFixed(2).padStart(7)}  (${a.min.toFixed(2)}–${a.max.toFixed(2)})  ${target}`,
      );
    };
    console.log(
      `page: ${WATCHERS} watchers, ${Buffer.byteLength(page)} bytes; median of ${RUNS} runs (spread)   ms`,
    );
    row('/healthz median (baseline)', 'healthzMedianMs');
    row('/healthz p99 (baseline)', 'healthzP99Ms');
    row(`/status cold median (${COLD}/run)`, 'coldMedianMs', '< 50');
    row('/status cold p99', 'coldP99Ms', '< 50');
    row(`/status cached median (${HOT}/run)`, 'cachedMedianMs');
    row('/status cached p99', 'cachedP99Ms');
    mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'test/bench/results/page.json'), `${JSON.stringify(out, null, 2)}\n`);
    return out;
  } finally {
    await daemon.stop();
    const redis = testRedis();
    await deletePrefix(redis, prefix).finally(() => redis.disconnect());
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runPageBench();
