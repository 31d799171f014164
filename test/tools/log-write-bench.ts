/**
 * What buffering log lines until the end of an event-loop turn buys: the daemon's logger (with and
 * without secrets to censor) against plain pino with the daemon's scrubber writing each line straight
 * to a synchronous `pino.destination`, or through a turn buffer, each with pino's ISO timestamp and
 * with a once-per-millisecond one. Every run is a fresh process that logs `LOG_BENCH_LINES`
 * run.finished-like lines through child loggers, in turns of `LOG_BENCH_TURN` lines (a thousand
 * watchers finishing together), to /dev/null, a file or a pipe (`LOG_BENCH_TARGETS`, comma-separated;
 * all three by default); it reports the process's CPU time and the wall time of the logging alone.
 *
 *   node --import tsx test/tools/log-write-bench.ts [runs]      (default 5 runs of each)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import { Secrets } from '../../internal/pkg/censor/censor.js';
import { createLogger } from '../../internal/pkg/log/log.js';
import { scrubSecrets } from '../../internal/pkg/log/scrub.js';
import { TurnQueue } from '../../internal/pkg/turn/turn-queue.js';

const LINES = Number(process.env.LOG_BENCH_LINES ?? 100_000);
const TURN = Number(process.env.LOG_BENCH_TURN ?? 1000);

const VARIANTS = [
  'daemon',
  'daemon+secrets',
  'direct',
  'direct+ms-cache',
  'turn-buffer',
  'turn-buffer+ms-cache',
] as const;
type Variant = (typeof VARIANTS)[number];
type Target = '/dev/null' | 'file' | 'pipe';
const TARGETS = (process.env.LOG_BENCH_TARGETS ?? '/dev/null,file,pipe').split(',') as Target[];

/** Lines of one turn, written together at its end (what the daemon's logger did up to now). */
class TurnBuffer implements DestinationStream {
  readonly #lines = new TurnQueue<string>((lines) => this.dest.write(lines.join('')));
  constructor(private readonly dest: DestinationStream) {}
  write(line: string): void {
    this.#lines.push(line);
  }
}

let cachedMs = Number.NaN;
let cachedText = '';
function msCachedTime(): string {
  const now = Date.now();
  if (now !== cachedMs) {
    cachedText = `,"time":"${new Date(now).toISOString()}"`;
    cachedMs = now;
  }
  return cachedText;
}

/** A pino logger with the daemon's formatters and serializers, on the destination and clock given. */
function plainLogger(dest: DestinationStream, time: () => string): Logger {
  return pino(
    {
      level: 'info',
      base: null,
      timestamp: time,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj: Record<string, unknown>) => scrubSecrets(obj),
        bindings: (b: Record<string, unknown>) => scrubSecrets(b),
      },
      serializers: { err: (err: unknown) => scrubSecrets(pino.stdSerializers.err(err as Error)) },
    },
    dest,
  );
}

function logger(variant: Variant, path: string): Logger {
  if (variant === 'daemon') return createLogger({ level: 'info', format: 'json', outputPaths: [path] });
  if (variant === 'daemon+secrets') {
    // What the daemon passes: the schema's secret names, and a MySQL, a Redis and a watcher secret.
    return createLogger({
      level: 'info',
      format: 'json',
      outputPaths: [path],
      secretKeys: ['password', 'api-token', 'apiToken'],
      secrets: new Secrets(['mysql-Secret-1', 'redis-Secret-2', 'tok-0123456789abcdef']),
    });
  }
  const dest = pino.destination({ dest: path === 'stdout' ? 1 : path, sync: true, append: true });
  const time = variant.endsWith('+ms-cache') ? msCachedTime : pino.stdTimeFunctions.isoTime;
  return plainLogger(variant.startsWith('turn-buffer') ? new TurnBuffer(dest) : dest, time);
}

/** Child: log LINES lines in turns of TURN, print `cpuMs wallMs` on stderr. */
async function child(variant: Variant, path: string): Promise<void> {
  const root = logger(variant, path);
  const children = Array.from({ length: TURN }, (_, w) => root.child({ watcher: `w${w}` }));
  const slot = new Date(Date.UTC(2026, 0, 1)).toISOString();
  const turn = () =>
    new Promise<void>((resolve) => {
      for (let w = 0; w < TURN; w++) {
        children[w]!.info(
          {
            deleted: 3,
            event: 'run.finished',
            watcher: `w${w}`,
            slot,
            instance: 'bench',
            durationMs: 2,
            result: 'ok',
          },
          'run finished',
        );
      }
      setImmediate(resolve);
    });
  await turn(); // warm-up turn, not measured
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < LINES / TURN; i++) await turn();
  await new Promise((r) => setImmediate(r));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stderr.write(`${(cpu.user + cpu.system) / 1000} ${wallMs}\n`);
}

function runChild(variant: Variant, target: Target, dir: string): Promise<{ cpuMs: number; wallMs: number }> {
  const path = target === 'file' ? join(dir, `${variant}.log`) : target === 'pipe' ? 'stdout' : target;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', variant, path], {
      stdio: ['ignore', target === 'pipe' ? 'pipe' : 'ignore', 'pipe'],
    });
    p.stdout?.resume(); // the pipe's reader: drains and drops
    let err = '';
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.once('exit', (code) => {
      if (target === 'file') rmSync(path, { force: true });
      const m = /^([\d.]+) ([\d.]+)$/m.exec(err);
      if (code !== 0 || !m) reject(new Error(`${variant} ${target}: exit ${code}: ${err}`));
      else resolve({ cpuMs: Number(m[1]), wallMs: Number(m[2]) });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const f = (n: number): string => n.toFixed(0);

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'iamw-log-bench-'));
  const results = new Map<string, Array<{ cpuMs: number; wallMs: number }>>();
  try {
    // Interleaved, so that load from elsewhere on the machine spreads over every variant alike.
    for (let r = 0; r < runs; r++) {
      for (const target of TARGETS) {
        for (const variant of VARIANTS) {
          const key = `${target}\t${variant}`;
          results.set(key, [...(results.get(key) ?? []), await runChild(variant, target, dir)]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `${LINES} lines in turns of ${TURN}, ${runs} runs each; median [min-max] in ms per ${LINES} lines\n` +
      `target\tvariant\tcpu ms\twall ms\tcpu us/line\n`,
  );
  for (const [key, rs] of results) {
    const cpu = rs.map((r) => r.cpuMs);
    const wall = rs.map((r) => r.wallMs);
    process.stdout.write(
      `${key}\t${f(median(cpu))} [${f(Math.min(...cpu))}-${f(Math.max(...cpu))}]` +
        `\t${f(median(wall))} [${f(Math.min(...wall))}-${f(Math.max(...wall))}]` +
        `\t${((median(cpu) * 1000) / LINES).toFixed(2)}\n`,
    );
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Variant, process.argv[4] ?? '/dev/null');
else await main();
