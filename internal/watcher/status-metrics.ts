/**
 * Metrics of status watchers, in the daemon's registry: rows by outcome, handler durations, and the
 * waiting rows with the age of the oldest, sampled each poll.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StatusHooks } from './kit/status-counts.js';

/** Registers the status metrics for these watchers; returns the hooks that feed them. */
export function createStatusMetrics(registry: Registry, watchers: readonly string[]): StatusHooks {
  const rows = new Counter({
    name: 'iam_watcher_status_rows_total',
    help: 'Rows of status watchers by outcome (claimed, done, retried, failed), on this instance.',
    labelNames: ['watcher', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'iam_watcher_status_handler_duration_seconds',
    help: 'Duration of status watchers handlers, by result (ok, failed).',
    labelNames: ['watcher', 'result'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  });
  const waiting = new Gauge({
    name: 'iam_watcher_status_rows_waiting',
    help: 'Rows in a to-do status, sampled each poll.',
    labelNames: ['watcher'] as const,
    registers: [registry],
  });
  const oldest = new Gauge({
    name: 'iam_watcher_status_oldest_waiting_seconds',
    help: "Age of the oldest waiting row (by the watcher's since column), sampled each poll.",
    labelNames: ['watcher'] as const,
    registers: [registry],
  });
  for (const w of watchers) {
    for (const outcome of ['claimed', 'done', 'retried', 'failed']) rows.inc({ watcher: w, outcome }, 0);
  }
  return {
    onRows: (watcher, outcome, n) => rows.inc({ watcher, outcome }, n),
    onHandler: (watcher, seconds, ok) => duration.observe({ watcher, result: ok ? 'ok' : 'failed' }, seconds),
    onSample: (watcher, n, ageS) => {
      waiting.set({ watcher }, n);
      if (ageS !== null) oldest.set({ watcher }, ageS);
      else oldest.set({ watcher }, 0);
    },
  };
}
