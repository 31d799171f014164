/**
 * `iam-watcher run <status watcher>`: processes the rows a claim can take now, in this process, with
 * the daemon's claims (so it shares the work with running daemons); or, with `--dry-run`, lists them.
 */
import type { Pool } from 'mysql2/promise';
import type { WatcherEntry } from './config.js';
import type { RowClaims } from './lock/index.js';
import type { AnyStatusWatcher } from './watcher/status-watcher.js';
import type { RunNowResult } from './scheduler/scheduler.js';
import { StatusSql } from './kit/status-sql.js';
import { statusWorker, type StatusRunnerDeps } from './status-runner.js';

/** Most keys a dry run names. */
const DRY_RUN_KEYS = 10_000;

/** Keys of the to-do rows a claim would take now (read only), up to {@link DRY_RUN_KEYS}. */
export async function claimableKeys(
  db: Pool,
  claims: RowClaims,
  watcher: AnyStatusWatcher,
  batchSize: number,
): Promise<unknown[]> {
  const sql = new StatusSql(db, watcher.table);
  const key = watcher.table.key;
  const out: unknown[] = [];
  let after: unknown = undefined;
  for (;;) {
    const rows = await sql.scan(after, batchSize);
    const free = await claims.claimable(rows.map((r) => String(r[key])));
    for (const r of rows) if (free.has(String(r[key])) && out.length < DRY_RUN_KEYS) out.push(r[key]);
    if (rows.length < batchSize || out.length >= DRY_RUN_KEYS) return out;
    after = rows[rows.length - 1]?.[key];
  }
}

/** Runs (or lists) one status watcher's waiting rows once. */
export async function runStatusOnce(
  deps: StatusRunnerDeps,
  entry: WatcherEntry<AnyStatusWatcher>,
  dryRun: boolean,
): Promise<RunNowResult> {
  const started = performance.now();
  const name = entry.watcher.name;
  if (dryRun) {
    const keys = await claimableKeys(deps.db, deps.rowClaims(name), entry.watcher, entry.config.batchSize);
    deps.logger.info(
      { watcher: name, event: 'status.dry-run', keys },
      `dry run: would take ${keys.length} row(s)`,
    );
    return {
      result: 'ok',
      counts: { dryRun: true, rows: keys.length, keys: keys.map(String).join(',') },
      durationMs: Math.round(performance.now() - started),
    };
  }
  const totals = await statusWorker(deps, entry).drain();
  return {
    result: totals.failed > 0 ? 'failed' : 'ok',
    counts: { ...totals, dryRun: false },
    durationMs: Math.round(performance.now() - started),
  };
}
