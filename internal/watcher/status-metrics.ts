/**
 * Metrics of status watchers, in the daemon's registry: rows by outcome, handler durations, and the
 * waiting rows with the age of the oldest, sampled each poll. A watcher disabled by a reload loses its
 * gauges (a last sample kept for ever would say rows wait for a watcher that no longer looks); its
 * counters stay, as counters do.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StatusHooks, StatusOutcome } from './kit/status-counts.js';
import type { StatusRunnerEvents } from './status-runner.js';

const OUTCOMES: readonly StatusOutcome[] = ['claimed', 'done', 'retried', 'failed'];

/** The hooks that feed the metrics, and the runner's events that start and end a watcher's series. */
export type StatusMetrics = StatusHooks & Required<StatusRunnerEvents>;

/** Registers the status metrics; `watchers` are those enabled at start-up. */
export function createStatusMetrics(registry: Registry, watchers: readonly string[]): StatusMetrics {
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
  /** Watchers that run here: a sample that ends after its watcher was removed is dropped. */
  const running = new Set<string>();
  const started = (watcher: string): void => {
    running.add(watcher);
    // Zero from the start, so that increase() sees the first rows.
    for (const outcome of OUTCOMES) rows.inc({ watcher, outcome }, 0);
  };
  for (const w of watchers) started(w);
  return {
    started,
    removed: (watcher) => {
      running.delete(watcher);
      waiting.remove({ watcher });
      oldest.remove({ watcher });
    },
    onRows: (watcher, outcome, n) => rows.inc({ watcher, outcome }, n),
    onHandler: (watcher, seconds, ok) => duration.observe({ watcher, result: ok ? 'ok' : 'failed' }, seconds),
    onSample: (watcher, n, ageS) => {
      if (!running.has(watcher)) return;
      waiting.set({ watcher }, n);
      oldest.set({ watcher }, ageS ?? 0);
    },
  };
}
