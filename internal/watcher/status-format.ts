/**
 * How `iam-watcher status` prints the cluster's view: an aligned text table (a status watcher's
 * latest sample and row counts in the same columns) or JSON, secrets censored.
 */
import type { LastRunRecord } from './lock/index.js';
import type { Secrets } from '../pkg/censor/censor.js';
import type { ClusterStatus, WatcherStatus } from './status.js';

function counts(c: LastRunRecord['counts']): string {
  const parts = Object.entries(c).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length === 0 ? '-' : parts.join(',');
}

function scheduledCells(w: WatcherStatus): string[] {
  return [
    w.watcher,
    w.lastRun?.slot ?? 'never',
    w.lastRun?.instance ?? '-',
    w.lastRun ? `${w.lastRun.result}${w.lastRun.manual ? ' (manual)' : ''}` : '-',
    w.lastRun ? `${w.lastRun.durationMs}ms` : '-',
    w.lastRun ? counts(w.lastRun.counts) : '-',
    w.running ? `${w.running.instance} since ${w.running.since}` : '-',
    w.nextSlot ?? 'none',
    String(w.failureStreak),
    w.paused ? `since ${w.paused.since}` : '-',
  ];
}

/** A status watcher in the same columns: its latest sample and its cluster-wide row counts. */
function statusCells(w: WatcherStatus): string[] {
  const r = w.rows ?? {};
  const n = (k: string): string => r[k] ?? '0';
  const age = r.oldestAgeS ? `, oldest ${r.oldestAgeS}s` : '';
  return [
    w.watcher,
    r.sampledAt ?? 'never',
    '-',
    'status',
    '-',
    `claimed=${n('claimed')},done=${n('done')},retried=${n('retried')},failed=${n('failed')}`,
    `${r.waiting ?? '?'} waiting${age}`,
    'polling',
    '-',
    w.paused ? `since ${w.paused.since}` : '-',
  ];
}

/** Renders the status as an aligned text table. */
export function formatStatus(s: ClusterStatus): string {
  const head = [
    'WATCHER',
    'LAST SLOT',
    'INSTANCE',
    'RESULT',
    'DURATION',
    'COUNTS',
    'RUNNING NOW',
    'NEXT SLOT',
    'FAILURE STREAK',
    'PAUSED',
  ];
  const body = s.watchers.map((w) => (w.rows === undefined ? scheduledCells(w) : statusCells(w)));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const errors = s.watchers.flatMap((w) => [
    ...(w.paused
      ? [
          `${w.watcher}: paused by ${w.paused.host}/${w.paused.instance}${w.paused.note ? `: ${w.paused.note}` : ''}`,
        ]
      : []),
    ...(w.lastRun?.error ? [`${w.watcher}: last run ${w.lastRun.result}: ${w.lastRun.error}`] : []),
  ]);
  if (s.watchers.length === 0) return 'no watcher is enabled\n';
  return `${[line(head), ...body.map(line), ...errors].join('\n')}\n`;
}

/**
 * The status as `status` prints it (JSON or the table), with every secret of `secrets` as `***`: a
 * last run's error text comes from the watcher, not from the schema, and may quote one.
 */
export function renderStatus(s: ClusterStatus, json: boolean, secrets: Secrets): string {
  return secrets.censor(json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
}
