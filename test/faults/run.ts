/**
 * Runs the fault suite (`make test-faults`; `make test` sets FAULTS_PROFILE=ci for the short form)
 * and prints the table of faults at the end; the table is also in test/faults/results.json.
 *
 *   node --import tsx test/faults/run.ts [file.test.ts ...]    (default: every test/faults/*.test.ts)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A parts directory of this run's own, so a concurrent run (another `make test`) cannot mix in;
// set before lib/results.js is loaded, which reads it.
process.env.FAULTS_PARTS_DIR ??= mkdtempSync(join(tmpdir(), 'iamw-faults-results-'));
const { FAULTS_DIR, PARTS_DIR, RESULTS_FILE, allRows, faultRank, renderTable, writeResults } =
  await import('./lib/results.js');

const requested = process.argv.slice(2);
const files = (
  requested.length > 0 ? requested : readdirSync(FAULTS_DIR).filter((f) => f.endsWith('.test.ts'))
)
  .map((f) => f.replace(/^.*\//, ''))
  .sort((a, b) => faultRank(a) - faultRank(b));

rmSync(PARTS_DIR, { recursive: true, force: true });
const t0 = Date.now();
const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', ...files.map((f) => join(FAULTS_DIR, f))],
    { stdio: 'inherit', env: process.env },
  );
  child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
writeResults();
const rows = allRows();
const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
process.stdout.write(
  `\nfault suite (${process.env.FAULTS_PROFILE === 'ci' ? 'ci' : 'full'} profile, ${minutes} min):\n\n` +
    `${renderTable(rows)}\n\nwritten to ${RESULTS_FILE}\n`,
);
const failed = rows.filter((r) => !r.pass).length;
rmSync(PARTS_DIR, { recursive: true, force: true });
process.exitCode = code !== 0 || failed > 0 || rows.length === 0 ? 1 : 0;
