/** Public types of the scheduler: its options, hooks and results. */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { WatcherConfig } from '../config.js';
import type { Coordinator } from '../lock/coordinator.js';
import type { AnyWatcher, RunCounts } from '../watcher/registry.js';
import type { Clock } from '../../pkg/clock/clock.js';

/** One watcher to schedule, with its validated config. */
export interface SchedulerEntry {
  readonly watcher: AnyWatcher;
  readonly config: WatcherConfig;
}

/** Why a slot did not run. */
export type SkipReason = 'overlap' | 'claimed' | 'backend-unavailable' | 'paused';

/** How a run ended. */
export type RunResult = 'ok' | 'failed' | 'aborted' | 'timeout';

/** Passed to {@link SchedulerHooks.onRunFinished}. */
export interface RunFinishedInfo {
  readonly watcher: string;
  readonly slot: Date;
  readonly instance: string;
  readonly result: RunResult;
  readonly durationMs: number;
  readonly counts: RunCounts;
  /** Rows the watcher counted, by action (`deleted`); empty for a dry run, which changes nothing. */
  readonly rows: Readonly<Record<string, number>>;
  readonly error?: string;
  /** True for {@link Scheduler.runNow}. */
  readonly manual: boolean;
  /** The attempt within its slot, when the watcher retries. */
  readonly attempt?: number;
}

/** Passed to {@link SchedulerHooks.onSkipped}. */
export interface SkippedInfo {
  readonly watcher: string;
  readonly slot: Date;
  readonly reason: SkipReason;
}

/** Passed to {@link SchedulerHooks.onMissed}. */
export interface MissedInfo {
  readonly watcher: string;
  /** Number of slots missed (at most {@link MAX_MISSED_COUNT} when enumerated). */
  readonly count: number;
  readonly first: Date;
  readonly last: Date;
  /** `late`: this process woke up after the slots (blocked event loop, clock jump); `down`: nobody ran them. */
  readonly cause: 'late' | 'down';
}

/** Passed to {@link SchedulerHooks.onLeaseLost}. */
export interface LeaseLostInfo {
  readonly watcher: string;
  readonly slot: Date;
  readonly key: string;
}

/** Observers (a metrics module subscribes). A hook that throws is logged and ignored. */
export interface SchedulerHooks {
  onRunStarted?(info: { readonly watcher: string; readonly slot: Date; readonly manual: boolean }): void;
  onRunFinished?(info: RunFinishedInfo): void;
  onSkipped?(reason: SkipReason, info: SkippedInfo): void;
  onMissed?(info: MissedInfo): void;
  onLeaseLost?(info: LeaseLostInfo): void;
}

/** Options of the {@link Scheduler} constructor. */
export interface SchedulerOptions {
  readonly entries: ReadonlyArray<SchedulerEntry>;
  readonly coordinator: Coordinator;
  readonly db: Pool;
  /** The pool's connection limit (`mysql.max-open-connections`), for runs. @defaultValue 10 */
  readonly dbConnectionLimit?: number;
  readonly logger: Logger;
  readonly instanceId: string;
  readonly hooks?: SchedulerHooks;
  /**
   * Hides secret values in a failed run's error before it is logged or stored in the backend.
   * @defaultValue the text unchanged
   */
  readonly censor?: (text: string) => string;
  /** @defaultValue the system clock */
  readonly clock?: Clock;
  /**
   * How often a waiting slot (overlap `delay`) or a fixed-delay follower re-checks the backend.
   * @defaultValue 200
   */
  readonly pollMs?: number;
}

/** What {@link Scheduler.runNow} returns. */
export interface RunNowResult {
  readonly result: RunResult | 'skipped';
  readonly counts: RunCounts;
  readonly durationMs: number;
  readonly error?: string;
}

/** Per-watcher counters since start. */
export interface WatcherStats {
  runs: number;
  ok: number;
  failed: number;
  aborted: number;
  timeout: number;
  skipped: Record<SkipReason, number>;
  missed: number;
  leaseLost: number;
}

/** Enumerated missed slots stop counting here (a long sleep of a per-second watcher). */
export const MAX_MISSED_COUNT = 100_000;
