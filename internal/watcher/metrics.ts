/**
 * Prometheus metrics (prom-client): what the scheduler reports through its hooks, plus the default
 * process metrics. One registry per daemon, so tests and one-off commands do not share state.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SchedulerHooks } from './scheduler/scheduler.js';
import { registerScheduleMetrics, type ScheduleMetricsSource } from './schedule-metrics.js';

export interface Metrics {
  readonly registry: Registry;
  readonly hooks: SchedulerHooks;
  /** Sets `iam_watcher_paused` from the cluster-wide paused set (1 paused, 0 not). */
  setPaused(paused: ReadonlySet<string>): void;
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * Creates the registry and the hooks that feed it. With `schedules`, the slot and last-success
 * gauges (schedule-metrics.ts) read it when scraped.
 */
export function createMetrics(watchers: readonly string[], schedules?: ScheduleMetricsSource): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { runs, duration, skipped, missed, leaseLost, paused, slots, rows } = defineMetrics(
    registry,
    schedules,
  );
  // Series exist from the start, so a rate() or absence alert has data before the first run.
  for (const w of watchers) {
    for (const result of ['ok', 'failed', 'aborted', 'timeout']) runs.inc({ watcher: w, result }, 0);
    for (const reason of ['overlap', 'claimed', 'backend-unavailable', 'paused'])
      skipped.inc({ watcher: w, reason }, 0);
    missed.inc({ watcher: w }, 0);
    leaseLost.inc({ watcher: w }, 0);
    paused.set({ watcher: w }, 0);
  }
  const hooks: SchedulerHooks = {
    onRunFinished(info) {
      runs.inc({ watcher: info.watcher, result: info.result });
      duration.observe({ watcher: info.watcher }, info.durationMs / 1000);
      if (info.result === 'ok') slots?.noteSuccess(info.watcher, Date.now());
      for (const [action, n] of Object.entries(info.rows)) {
        if (n > 0) rows.inc({ watcher: info.watcher, action }, n);
      }
    },
    onSkipped(reason, info) {
      skipped.inc({ watcher: info.watcher, reason });
    },
    onMissed(info) {
      missed.inc({ watcher: info.watcher }, info.count);
    },
    onLeaseLost(info) {
      leaseLost.inc({ watcher: info.watcher });
    },
  };
  return {
    registry,
    hooks,
    setPaused(names) {
      for (const w of watchers) paused.set({ watcher: w }, names.has(w) ? 1 : 0);
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}

/**
 * The scheduler's metrics, registered on `registry` in the order `/metrics` lists them (with
 * `schedules`, the slot and last-success gauges come before the rows counter).
 */
function defineMetrics(registry: Registry, schedules: ScheduleMetricsSource | undefined) {
  const runs = new Counter({
    name: 'iam_watcher_runs_total',
    help: 'Finished runs (each attempt of a retried slot counts) by watcher and result (ok, failed, aborted, timeout).',
    labelNames: ['watcher', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'iam_watcher_run_duration_seconds',
    help: 'Run duration in seconds.',
    labelNames: ['watcher'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'iam_watcher_slots_skipped_total',
    help: 'Slots this instance did not run, by reason (overlap, claimed, backend-unavailable, paused).',
    labelNames: ['watcher', 'reason'] as const,
    registers: [registry],
  });
  const missed = new Counter({
    name: 'iam_watcher_slots_missed_total',
    help: 'Slots that passed without a run (event loop blocked, clock jump, all instances down).',
    labelNames: ['watcher'] as const,
    registers: [registry],
  });
  const leaseLost = new Counter({
    name: 'iam_watcher_lease_lost_total',
    help: 'Runs whose lease was lost while they ran (their AbortSignal fired).',
    labelNames: ['watcher'] as const,
    registers: [registry],
  });
  const paused = new Gauge({
    name: 'iam_watcher_paused',
    help: 'Whether the watcher is paused cluster-wide (iam-watcher pause): 1 paused, 0 not.',
    labelNames: ['watcher'] as const,
    registers: [registry],
  });
  const slots = schedules === undefined ? undefined : registerScheduleMetrics(registry, schedules);
  const rows = new Counter({
    name: 'iam_watcher_rows_affected_total',
    help: 'Rows changed by watchers, by action (disabled, deleted); dry runs change nothing and are not counted.',
    labelNames: ['watcher', 'action'] as const,
    registers: [registry],
  });
  return { runs, duration, skipped, missed, leaseLost, paused, slots, rows };
}
