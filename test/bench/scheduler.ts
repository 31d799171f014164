/**
 * Scheduler benchmark (issue 3): BENCH_WATCHERS (1000) watchers on `* * * * * *` for BENCH_SECONDS
 * (30), three engines, each in its own child process so CPU and RSS are its own:
 * - iamWatcher: this project's Scheduler with Redis slot claims and leases (real Redis);
 * - croner: bare croner jobs, no claims;
 * - nodeCron: node-cron 4.6 tasks, no claims;
 * - redisFloor: no scheduler at all, only the Redis traffic a slot of iamWatcher needs, sent as
 *   cheaply as the client allows: every whole second, the claim+lease items of all watchers in
 *   100-item calls of the daemon's own script (items packed, as the daemon sends them), then their
 *   releases and last-run records likewise.
 *   Its CPU is what the claims cost by themselves; its "lateness" is claim reply minus slot.
 * Lateness = run start minus slot time. Prints a table and writes test/bench/results/scheduler.json.
 *
 * The iamWatcher engine loads the built daemon from `dist/` (see {@link daemonModule}).
 *
 * Run: `make build && node --import tsx test/bench/scheduler.ts`
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Engine = 'iamWatcher' | 'croner' | 'nodeCron' | 'redisFloor';
const ENGINES: readonly Engine[] = ['iamWatcher', 'croner', 'nodeCron', 'redisFloor'];

/** Figures of one engine. */
export interface EngineFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMsPerSec: number;
  rssMB: number;
  slots: number;
  missed: number;
  doubled: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const watchers = Number(process.env.BENCH_WATCHERS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 30);

/** Runs the three engines one after the other and returns (and writes) the figures. */
export async function runSchedulerBench(): Promise<
  { watchers: number; seconds: number } & Record<Engine, EngineFigures>
> {
  const out: Partial<Record<Engine, EngineFigures>> = {};
  // The machine may be shared: the 1-minute load average before and after says how much.
  const loadBefore = Math.round(loadavg()[0]! * 100) / 100;
  for (const engine of ENGINES) out[engine] = await runChild(engine);
  const loadAfter = Math.round(loadavg()[0]! * 100) / 100;
  const result = {
    watchers,
    seconds,
    ...(out as Record<Engine, EngineFigures>),
    loadAverage1m: { before: loadBefore, after: loadAfter, cores: cpus().length },
  };
  printTable(result);
  const file = join(here, 'results', 'scheduler.json');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${file}`);
  return result;
}

function runChild(engine: Engine): Promise<EngineFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), `--engine=${engine}`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: process.env,
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${engine} bench exited with ${code}: ${stdout}`));
      else resolve(JSON.parse(last) as EngineFigures);
    });
  });
}

function printTable(r: { watchers: number; seconds: number } & Record<Engine, EngineFigures>): void {
  const cols = ['engine', 'p50 ms', 'p99 ms', 'max ms', 'CPU ms/s', 'RSS MB', 'slots', 'missed', 'doubled'];
  const rows = ENGINES.map((e) => {
    const f = r[e];
    return [e, f.p50Ms, f.p99Ms, f.maxMs, f.cpuMsPerSec, f.rssMB, f.slots, f.missed, f.doubled].map(String);
  });
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(
    `scheduler bench: ${r.watchers} watchers on "* * * * * *" for ${r.seconds} s (load ${loadavg()[0]?.toFixed(2)})`,
  );
  console.log(line(cols));
  for (const row of rows) console.log(line(row));
  const times = (e: Engine): string => (r[e].cpuMsPerSec / r.croner.cpuMsPerSec).toFixed(1);
  console.log(
    `CPU per wall second, as a multiple of bare croner: iamWatcher ${times('iamWatcher')}x, ` +
      `its Redis traffic alone (redisFloor) ${times('redisFloor')}x, node-cron ${times('nodeCron')}x`,
  );
}

// ---- child side ---------------------------------------------------------------------------------

/**
 * Records run starts and turns them into figures. Preallocated typed arrays, so that recording adds
 * no garbage and no growing tables to the engine's heap (a Map of a thousand new string keys a
 * second made every engine's collector busier).
 */
class Recorder {
  /** The whole second that index 0 of {@link runs} stands for. */
  readonly #baseSec = Math.floor(Date.now() / 1000);
  readonly #spanSec = seconds + 8;
  /** Runs per (second, watcher). */
  readonly #runs = new Uint16Array(this.#spanSec * watchers);
  readonly #lateness = new Float64Array(this.#spanSec * watchers * 2);
  #recorded = 0;
  startMs = 0;
  endMs = 0;

  record(watcher: number, slotMs: number, startMs: number): void {
    if (startMs < this.startMs || (this.endMs > 0 && startMs > this.endMs)) return;
    const sec = Math.floor(slotMs / 1000) - this.#baseSec;
    if (sec < 0 || sec >= this.#spanSec || this.#recorded >= this.#lateness.length) return;
    this.#lateness[this.#recorded++] = startMs - slotMs;
    const i = sec * watchers + watcher;
    this.#runs[i] = (this.#runs[i] ?? 0) + 1;
  }

  figures(cpuMsPerSec: number, rssMB: number): EngineFigures {
    const sorted = this.#lateness.slice(0, this.#recorded).sort();
    const pct = (p: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    // Slots fully inside the window: from the first whole second after start to the last before end.
    let missed = 0;
    const first = Math.ceil(this.startMs / 1000) + 1 - this.#baseSec;
    const last = Math.floor(this.endMs / 1000) - 1 - this.#baseSec;
    for (let sec = first; sec <= last; sec++) {
      for (let w = 0; w < watchers; w++) if (this.#runs[sec * watchers + w] === 0) missed += 1;
    }
    let doubled = 0;
    for (const n of this.#runs) if (n > 1) doubled += n - 1;
    return {
      p50Ms: pct(50),
      p99Ms: pct(99),
      maxMs: sorted.at(-1) ?? NaN,
      cpuMsPerSec: Math.round(cpuMsPerSec * 10) / 10,
      rssMB: Math.round(rssMB * 10) / 10,
      slots: sorted.length,
      missed,
      doubled,
    };
  }
}

const DIST = new URL('../../dist/internal/', import.meta.url);
const SOURCES = new URL('../../internal/', import.meta.url);

/** The newest modification time (ms) of the files under `dir` ending in `ext`. */
async function newest(dir: URL, ext: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(ext)) continue;
    latest = Math.max(latest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return latest;
}

/**
 * A module of the built daemon (`dist/`, what `iam-watcher` runs), not of the TypeScript sources: tsx
 * compiles those with helpers of its own (every function it creates gets a `__name` call) that
 * cost CPU the daemon does not pay. Refuses a `dist/` older than the sources (`make build`).
 */
async function daemonModule<M>(path: string): Promise<M> {
  await (distChecked ??= checkDist());
  return (await import(new URL(path, DIST).href)) as M;
}

/** The `dist/` freshness check, made once per process (each engine loads several modules). */
let distChecked: Promise<void> | undefined;
async function checkDist(): Promise<void> {
  const [built, sources] = await Promise.all([newest(DIST, '.js').catch(() => 0), newest(SOURCES, '.ts')]);
  if (built < sources) {
    throw new Error('dist/ is missing or older than internal/: run `make build` (make bench does) first');
  }
}

/** Starts an engine; returns its stop function. */
type Starter = (rec: Recorder) => Promise<() => Promise<void>>;

const wholeSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

const starters: Record<Engine, Starter> = {
  async redisFloor(rec) {
    const { CLAIM } = await daemonModule<typeof import('../../internal/watcher/lock/redis/scripts/claim.js')>(
      'watcher/lock/redis/scripts/claim.js',
    );
    const { RELEASE } = await daemonModule<
      typeof import('../../internal/watcher/lock/redis/scripts/release.js')
    >('watcher/lock/redis/scripts/release.js');
    const { ITEM_SEPARATOR } = await daemonModule<
      typeof import('../../internal/watcher/lock/redis/batcher.js')
    >('watcher/lock/redis/batcher.js');
    const { testRedis, randomPrefix, deletePrefix, closeAll } = await import('../helpers/redis.js');
    const redis = testRedis(undefined, undefined, { enableAutoPipelining: true });
    const admin = testRedis();
    const prefix = randomPrefix();
    redis.defineCommand('benchClaim', { lua: CLAIM.lua });
    redis.defineCommand('benchOps', { lua: RELEASE.lua });
    // Packed, as the daemon's batcher sends items to a single server (scripts/packed.ts).
    const call = (name: string, keys: string[], args: string[]): Promise<unknown[]> =>
      (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>)[name]!(
        0,
        keys.join(ITEM_SEPARATOR),
        args.join(ITEM_SEPARATOR),
      );
    const BATCH = 100;
    const slotOnce = async (slotMs: number): Promise<void> => {
      const iso = new Date(slotMs).toISOString();
      const tokens = Array.from({ length: watchers }, (_, w) => `${Date.now()}:bench:${w}:floor`);
      const claims: Promise<unknown>[] = [];
      for (let b = 0; b < watchers; b += BATCH) {
        const keys: string[] = [];
        const args: string[] = [];
        for (let w = b; w < Math.min(watchers, b + BATCH); w++) {
          keys.push(`${prefix}slot:{w${w}}:${iso}`, `${prefix}running:{w${w}}`, `${prefix}holder:{w${w}}`);
          args.push(tokens[w]!, '60000', '30000', '');
        }
        claims.push(
          call('benchClaim', keys, args).then((replies) => {
            const now = Date.now();
            for (let i = 0; i < replies.length; i++) if (replies[i] === 1) rec.record(b + i, slotMs, now);
          }),
        );
      }
      await Promise.all(claims);
      const ends: Promise<unknown>[] = [];
      for (let b = 0; b < watchers; b += BATCH) {
        const keys: string[] = [];
        const args: string[] = [];
        for (let w = b; w < Math.min(watchers, b + BATCH); w++) {
          const record = {
            watcher: `w${w}`,
            slotMs,
            instance: 'bench',
            result: 'ok',
            startedMs: slotMs,
            durationMs: 0,
            counts: {},
          };
          keys.push(
            `${prefix}running:{w${w}}`,
            `${prefix}last-run:{w${w}}`,
            `${prefix}last-success:{w${w}}`,
            `${prefix}history:{w${w}}`,
          );
          args.push(tokens[w]!, JSON.stringify(record), '=');
        }
        ends.push(call('benchOps', keys, args));
      }
      await Promise.all(ends);
    };
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const next = Math.floor(Date.now() / 1000) * 1000 + 1000;
      timer = setTimeout(() => {
        arm();
        void slotOnce(next);
      }, next - Date.now());
    };
    arm();
    return async () => {
      clearTimeout(timer);
      await deletePrefix(admin, prefix);
      closeAll(redis, admin);
    };
  },
  async croner(rec) {
    const { Cron } = await import('croner');
    const jobs = Array.from(
      { length: watchers },
      (_, w) =>
        new Cron('* * * * * *', { catch: true }, () => {
          const now = Date.now();
          rec.record(w, wholeSecond(now), now);
        }),
    );
    return () => {
      for (const j of jobs) j.stop();
      return Promise.resolve();
    };
  },
  async nodeCron(rec) {
    const cron = (await import('node-cron')).default;
    const tasks = Array.from({ length: watchers }, (_, w) =>
      cron.schedule('* * * * * *', () => {
        const now = Date.now();
        rec.record(w, wholeSecond(now), now);
      }),
    );
    return async () => {
      for (const t of tasks) await t.stop();
    };
  },
  async iamWatcher(rec) {
    const { createLogger } =
      await daemonModule<typeof import('../../internal/pkg/log/log.js')>('pkg/log/log.js');
    const { Scheduler } = await daemonModule<typeof import('../../internal/watcher/scheduler/scheduler.js')>(
      'watcher/scheduler/scheduler.js',
    );
    const { createRedisCoordinator } =
      await daemonModule<typeof import('../../internal/watcher/lock/index.js')>('watcher/lock/index.js');
    const { testRedis, randomPrefix, deletePrefix, closeAll } = await import('../helpers/redis.js');
    // Auto-pipelining batches the commands issued in one tick (1000 claims at the same instant)
    // into one socket write; the daemon's Redis client should set it too.
    const redis = testRedis(undefined, undefined, { enableAutoPipelining: true });
    const admin = testRedis();
    const prefix = randomPrefix();
    // The daemon's own logger (synchronous writes, redaction, ISO times): one run.finished line per
    // run at info, as in production, written nowhere.
    const logger = createLogger({
      level: process.env.BENCH_LOG_LEVEL ?? 'info',
      format: 'json',
      outputPaths: ['/dev/null'],
    });
    const coordinator = createRedisCoordinator({
      redis,
      keyPrefix: prefix,
      leaseMs: 30_000,
      instanceId: 'bench',
      logger,
    });
    const entries = Array.from({ length: watchers }, (_, w) => ({
      watcher: {
        name: `w${w}`,
        description: 'bench',
        schedule: '* * * * * *',
        options: {},
        run: (ctx: { slot: Date }) => {
          rec.record(w, ctx.slot.getTime(), Date.now());
          return Promise.resolve();
        },
      },
      config: {
        name: `w${w}`,
        enabled: true,
        schedule: '* * * * * *',
        mode: 'fixed-rate' as const,
        overlap: 'skip' as const,
        catchUpMs: 0,
        timeZone: 'UTC',
        dryRun: false,
        batchSize: 100,
        options: {},
      },
    }));
    const scheduler = new Scheduler({
      entries: entries,
      coordinator,
      db: {} as never,
      logger,
      instanceId: 'bench',
    });
    scheduler.start();
    return async () => {
      await scheduler.stop(5_000);
      await deletePrefix(admin, prefix);
      closeAll(redis, admin);
    };
  },
};

/**
 * The run start is recorded when the watcher's run function is entered (after the claim and the
 * lease for iamWatcher), so lateness includes the Redis round trips.
 */
async function child(engine: Engine): Promise<void> {
  const rec = new Recorder();
  const stop = await starters[engine](rec);
  // A second of warm-up (JIT, connections), then measure.
  await new Promise((r) => setTimeout(r, 1_000));
  rec.startMs = Date.now();
  const cpu0 = process.cpuUsage();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  rec.endMs = Date.now();
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  rss = Math.max(rss, process.memoryUsage().rss);
  const wall = (rec.endMs - rec.startMs) / 1000;
  await stop();
  process.stdout.write(
    `${JSON.stringify(rec.figures((cpu.user + cpu.system) / 1000 / wall, rss / 1024 / 1024))}\n`,
  );
}

const engineArg = process.argv.find((a) => a.startsWith('--engine='))?.slice('--engine='.length);
if (engineArg !== undefined) {
  await child(engineArg as Engine);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runSchedulerBench();
}
