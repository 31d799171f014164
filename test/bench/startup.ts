/**
 * Start-up and shutdown timings of the built daemon, as an operator sees them: `--help`,
 * start to a healthy `/healthz`, and SIGTERM of an idle daemon to exit. Baseline in the same run:
 * `node -e 0` (the runtime's own start). Targets: start < 2 s, help < 0.5 s, stop < 1 s.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, Daemon, freePort, tempDir, waitHttp, writeConfig, ROOT } from '../helpers/daemon.js';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function timeCmd(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

async function startStop(): Promise<{ startMs: number; stopMs: number }> {
  const port = await freePort();
  const file = writeConfig(
    tempDir(),
    `health-check-address: 127.0.0.1:${port}\nlock:\n  key-prefix: iamw-bench-${port}\nmysql:\n  username: root\n  database: mysql\n`,
  );
  const t0 = performance.now();
  const d = new Daemon(['-c', file]);
  await waitHttp(`http://127.0.0.1:${port}/healthz`, 10_000);
  const startMs = performance.now() - t0;
  await d.waitFor((l) => l.event === 'daemon.started');
  const t1 = performance.now();
  d.kill('SIGTERM');
  const exit = await d.exited;
  const stopMs = performance.now() - t1;
  if (exit.code !== 0) throw new Error(`daemon exited ${exit.code}: ${d.stderr}`);
  return { startMs, stopMs };
}

/** Runs the part and returns its figures. */
export async function runStartupBench(): Promise<Record<string, number>> {
  const node: number[] = [];
  const help: number[] = [];
  const start: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    node.push(timeCmd(['-e', '0']));
    help.push(timeCmd([CLI, '--help']));
    const r = await startStop();
    start.push(r.startMs);
    stop.push(r.stopMs);
  }
  const out = {
    runs: RUNS,
    nodeBaselineMs: Math.round(median(node)),
    helpMs: Math.round(median(help)),
    startToHealthyMs: Math.round(median(start)),
    sigtermToExitMs: Math.round(median(stop)),
  };
  console.log('startup (median of %d)        ms   target', RUNS);
  console.log(`  node -e 0 (baseline)   ${String(out.nodeBaselineMs).padStart(6)}`);
  console.log(`  iam-watcher --help     ${String(out.helpMs).padStart(6)}   < 500`);
  console.log(`  start -> /healthz 200  ${String(out.startToHealthyMs).padStart(6)}   < 2000`);
  console.log(`  SIGTERM -> exit 0      ${String(out.sigtermToExitMs).padStart(6)}   < 1000`);
  mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'test/bench/results/startup.json'), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await runStartupBench();
