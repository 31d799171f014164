/**
 * `make bench`: every benchmark part in turn, each printing its figures beside a baseline measured
 * in the same run, and writing test/bench/results/<part>.json. `BENCH_PART=scheduler` (or a comma
 * list: startup, scheduler, watchers, page) runs a subset.
 */
import { runStartupBench } from './startup.js';
import { runSchedulerBench } from './scheduler.js';
import { runWatchersBench } from './watchers.js';
import { runStatusBench } from './status.js';
import { runPageBench } from './page.js';

const PARTS: Record<string, () => Promise<unknown>> = {
  startup: runStartupBench,
  scheduler: runSchedulerBench,
  watchers: runWatchersBench,
  status: runStatusBench,
  page: runPageBench,
};

// `status` runs only when asked for (make bench-status).
const DEFAULT = Object.keys(PARTS).filter((p) => p !== 'status');
const wanted = (process.env.BENCH_PART ?? DEFAULT.join(',')).split(',').map((s) => s.trim());
for (const name of wanted) {
  const part = PARTS[name];
  if (!part) throw new Error(`unknown BENCH_PART "${name}" (known: ${Object.keys(PARTS).join(', ')})`);
  console.log(`\n=== bench: ${name}`);
  await part();
}
