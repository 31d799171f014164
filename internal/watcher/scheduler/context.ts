/**
 * What every part of the scheduler shares: the dependencies, the hooks (made safe to call) and the
 * counters, plus the table of runs in flight that `stop()` waits for.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { Coordinator, Lease } from '../lock/coordinator.js';
import type { Clock } from '../../pkg/clock/clock.js';
import { sleep } from '../../pkg/clock/clock.js';
import { iso } from '../../pkg/clock/iso.js';
import { setTimerAt } from './long-timer.js';
import type {
  LeaseLostInfo,
  MissedInfo,
  RunFinishedInfo,
  RunResult,
  SchedulerHooks,
  SkipReason,
  SkippedInfo,
  WatcherStats,
} from './types.js';

/** A run (or a slot waiting to run) that `stop()` must wait for. */
export interface InFlight {
  readonly watcher: string;
  /** The lease `stop()` releases if the entry is still in flight when its timeout ends. */
  lease: Lease | undefined;
  /** A run: fires its AbortSignal (shutdown). */
  abort?(reason: unknown): void;
}

/** Shared state of one scheduler. */
export class SchedulerContext {
  readonly stopController = new AbortController();
  readonly inFlight = new Set<InFlight>();
  readonly stats = new Map<string, WatcherStats>();
  /** Watchers paused cluster-wide (operator controls): their slots are skipped as `paused`. */
  paused: ReadonlySet<string> = new Set();
  /** Resolvers of {@link drained} promises, called when {@link inFlight} empties. */
  #drainWaiters: Array<() => void> = [];
  readonly #watcherLoggers = new Map<string, Logger>();
  readonly #stopWaiters = new Set<() => void>();

  constructor(
    readonly coordinator: Coordinator,
    readonly db: Pool,
    readonly dbConnectionLimit: number,
    readonly logger: Logger,
    readonly instanceId: string,
    readonly clock: Clock,
    readonly pollMs: number,
    private readonly hooks: SchedulerHooks,
    /** Hides secret values in text that leaves the process (a failed run's error in its record). */
    readonly censor: (text: string) => string,
  ) {
    // Sleepers listen for shutdown too; a thousand watchers are not a leak.
    setMaxListeners(0, this.stopController.signal);
    this.stopController.signal.addEventListener(
      'abort',
      () => {
        // The runs in flight and the waiters: one listener for all of them, not one each.
        for (const entry of this.inFlight) entry.abort?.(this.stopController.signal.reason);
        for (const w of this.#stopWaiters) w();
        this.#stopWaiters.clear();
      },
      { once: true },
    );
  }

  /** Calls `fn` when shutdown begins. @returns a function that forgets it (O(1): many wait at once). */
  onStop(fn: () => void): () => void {
    this.#stopWaiters.add(fn);
    return () => this.#stopWaiters.delete(fn);
  }

  /**
   * The logger of a watcher's runs, carrying `watcher` and `instance`. Cached: a pino child per run
   * costs more than a short run itself when a thousand watchers share a slot.
   */
  watcherLogger(watcher: string): Logger {
    let l = this.#watcherLoggers.get(watcher);
    if (l === undefined) {
      l = this.logger.child({ watcher, instance: this.instanceId });
      this.#watcherLoggers.set(watcher, l);
    }
    return l;
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Waits on the scheduler's clock; ends early when the scheduler stops. */
  sleep(ms: number): Promise<void> {
    return sleep(ms, this.stopController.signal, this.clock);
  }

  statsOf(watcher: string): WatcherStats {
    let s = this.stats.get(watcher);
    if (s === undefined) {
      s = {
        runs: 0,
        ok: 0,
        failed: 0,
        aborted: 0,
        timeout: 0,
        skipped: { overlap: 0, claimed: 0, 'backend-unavailable': 0, paused: 0 },
        missed: 0,
        leaseLost: 0,
      };
      this.stats.set(watcher, s);
    }
    return s;
  }

  /** Counts, logs (`run.skipped`) and reports a skipped slot. */
  skipped(watcher: string, slotMs: number, reason: SkipReason, manual = false): void {
    this.statsOf(watcher).skipped[reason] += 1;
    const fields = {
      event: 'run.skipped',
      watcher,
      slot: iso(slotMs),
      instance: this.instanceId,
      reason,
      manual,
    };
    // Claimed elsewhere is the normal case in a cluster; the outage itself is logged once by the
    // coordinator, so per-slot lines for it stay at debug too.
    if (reason === 'overlap') this.logger.info(fields, 'slot skipped: the previous run still runs');
    else this.logger.debug(fields, `slot skipped: ${reason}`);
    const info: SkippedInfo = { watcher, slot: new Date(slotMs), reason };
    this.call('onSkipped', () => this.hooks.onSkipped?.(reason, info));
  }

  /** Counts, logs (`slot.missed`) and reports missed slots. */
  missed(info: MissedInfo): void {
    this.statsOf(info.watcher).missed += info.count;
    this.logger.warn(
      {
        event: 'slot.missed',
        watcher: info.watcher,
        count: info.count,
        first: info.first.toISOString(),
        last: info.last.toISOString(),
        cause: info.cause,
        instance: this.instanceId,
      },
      info.cause === 'late'
        ? 'slots missed: the process woke up too late'
        : 'slots missed: no instance ran them',
    );
    this.call('onMissed', () => this.hooks.onMissed?.(info));
  }

  /** Counts, logs (`lease.lost`) and reports a lost lease. */
  leaseLost(info: LeaseLostInfo, reason: unknown): void {
    this.statsOf(info.watcher).leaseLost += 1;
    this.logger.error(
      {
        event: 'lease.lost',
        watcher: info.watcher,
        slot: info.slot.toISOString(),
        instance: this.instanceId,
        key: info.key,
        err: reason,
      },
      'lease lost: the run is aborted',
    );
    this.call('onLeaseLost', () => this.hooks.onLeaseLost?.(info));
  }

  runStarted(watcher: string, slotMs: number, manual: boolean): void {
    if (this.hooks.onRunStarted !== undefined)
      this.call('onRunStarted', () => this.hooks.onRunStarted?.({ watcher, slot: new Date(slotMs), manual }));
  }

  /** Counts a finished run and reports it (`run.info()` is only called when a hook listens). */
  runFinished(watcher: string, result: RunResult, run: { info(): RunFinishedInfo }): void {
    const s = this.statsOf(watcher);
    s.runs += 1;
    s[result] += 1;
    if (this.hooks.onRunFinished !== undefined)
      this.call('onRunFinished', () => this.hooks.onRunFinished?.(run.info()));
  }

  /** Tracks background work until it settles; logs it if it rejects (`scheduler.error`). */
  track(watcher: string, done: Promise<unknown>): void {
    const entry: InFlight = { watcher, lease: undefined };
    this.enter(entry);
    void done
      .catch((err: unknown) =>
        this.logger.error({ event: 'scheduler.error', watcher, err }, 'scheduler error'),
      )
      .finally(() => this.leave(entry));
  }

  /** Counts an entry in flight until {@link leave}. */
  enter(entry: InFlight): void {
    this.inFlight.add(entry);
  }

  leave(entry: InFlight): void {
    if (!this.inFlight.delete(entry) || this.inFlight.size > 0 || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once nothing is in flight. */
  drained(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  private call(hook: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ event: 'hook.failed', hook, err }, `scheduler hook ${hook} threw`);
    }
  }
}

/**
 * Resolves when the clock reaches `atMs` (at once if it has), or when shutdown begins. Waiters for
 * the same instant share one timer and all resume in the same turn (see `setTimerAt`).
 */
export function waitUntil(ctx: SchedulerContext, atMs: number): Promise<void> {
  const signal = ctx.stopController.signal;
  if (ctx.clock.now() >= atMs || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      timer.cancel();
      forget();
      resolve();
    };
    const timer = setTimerAt(ctx.clock, atMs, done);
    const forget = ctx.onStop(done);
  });
}
