/**
 * The scheduler: one {@link Job} per watcher, sharing a coordinator, a clock and the runs in flight.
 * `start()` arms every watcher; `stop()` stops scheduling, aborts the runs' signals, waits for them
 * up to a timeout and releases their leases.
 */
import { IllegalStateError, WatcherError } from '../errors.js';
import type { WatcherConfig } from '../config.js';
import { systemClock } from '../../pkg/clock/clock.js';
import { iso } from '../../pkg/clock/iso.js';
import { SchedulerContext } from './context.js';
import { executeRun } from './execute-run.js';
import { Job } from './job.js';
import { parseSchedule } from './spec.js';
import type { Schedule } from './spec.js';
import type { RunNowResult, SchedulerEntry, SchedulerOptions, WatcherStats } from './types.js';

export type * from './types.js';

type State = 'created' | 'started' | 'stopping' | 'stopped';

/** Schedules watchers and runs each slot once, cluster-wide. */
export class Scheduler {
  readonly #ctx: SchedulerContext;
  readonly #jobs = new Map<string, Job>();
  readonly #schedules = new Map<string, Schedule>();
  #state: State = 'created';
  #stopping: Promise<{ abandoned: number }> | undefined;

  constructor(opts: SchedulerOptions) {
    this.#ctx = new SchedulerContext(
      opts.coordinator,
      opts.db,
      opts.dbConnectionLimit ?? 10,
      opts.logger,
      opts.instanceId,
      opts.clock ?? systemClock,
      opts.pollMs ?? 200,
      opts.hooks ?? {},
      opts.censor ?? ((text) => text),
    );
    for (const e of opts.entries) this.#add(e);
  }

  /** Arms every watcher. @throws IllegalStateError when called twice or after stop(). */
  start(): void {
    if (this.#state !== 'created')
      throw new IllegalStateError(`scheduler cannot start: it is ${this.#state}`);
    this.#state = 'started';
    for (const job of this.#jobs.values()) job.start();
    this.#ctx.logger.info(
      { event: 'scheduler.started', instance: this.#ctx.instanceId, watchers: [...this.#jobs.keys()] },
      'scheduler started',
    );
  }

  /**
   * Stops scheduling, aborts running runs' signals, waits for them up to `timeoutMs`, then releases
   * the leases of runs that did not end. Idempotent: a second call shares the first one's promise.
   * @returns how many runs had to be abandoned.
   */
  stop(timeoutMs: number): Promise<{ abandoned: number }> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<{ abandoned: number }> {
    this.#state = 'stopping';
    for (const job of this.#jobs.values()) job.stop();
    this.#ctx.stopController.abort(new WatcherError('SHUTTING_DOWN', 'the daemon is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.#ctx.drained(), timedOut]);
    clearTimeout(timer);
    const left = [...this.#ctx.inFlight].filter((p) => p.lease !== undefined);
    await Promise.allSettled(left.map((p) => p.lease?.release() ?? Promise.resolve()));
    if (left.length > 0) {
      this.#ctx.logger.warn(
        { event: 'scheduler.abandoned', abandoned: left.length, watchers: left.map((p) => p.watcher) },
        'runs did not end within the shutdown timeout',
      );
    }
    this.#state = 'stopped';
    this.#ctx.logger.info({ event: 'scheduler.stopped', abandoned: left.length }, 'scheduler stopped');
    return { abandoned: left.length };
  }

  /**
   * Runs a watcher once now, holding the same lease a scheduled run holds (no slot claim). Works
   * before `start()` (the `run` command). `skipped` when the watcher runs elsewhere or the backend
   * is unreachable.
   */
  async runNow(name: string, opts: { dryRun?: boolean } = {}): Promise<RunNowResult> {
    const job = this.#jobs.get(name);
    if (job === undefined) throw new IllegalStateError(`no watcher "${name}" is scheduled`);
    const ctx = this.#ctx;
    const slotMs = ctx.clock.now();
    const scope =
      job.config.overlap === 'allow' ? ({ kind: 'slot', slotMs } as const) : ({ kind: 'running' } as const);
    const r = await ctx.coordinator.acquireLease(name, scope);
    if (r.outcome !== 'acquired') {
      const held = r.outcome === 'held';
      ctx.skipped(name, slotMs, held ? 'overlap' : 'backend-unavailable', true);
      return {
        result: 'skipped',
        counts: {},
        durationMs: 0,
        error: held
          ? `watcher "${name}" is running on another instance`
          : `the lock backend is unreachable: ${String((r.error as Error | undefined)?.message ?? r.error)}`,
      };
    }
    const run = await executeRun(ctx, {
      watcher: job.watcher,
      config: job.config,
      slotMs,
      lease: r.lease,
      manual: true,
      ...(opts.dryRun === undefined ? {} : { dryRun: opts.dryRun }),
    });
    return {
      result: run.result,
      counts: run.counts,
      durationMs: run.durationMs,
      ...(run.error === undefined ? {} : { error: run.error }),
    };
  }

  /**
   * The watchers paused cluster-wide (operator controls, read by the daemon's control loop): from
   * now on their slots are skipped with reason `paused`; runs going on are not touched.
   */
  setPaused(names: ReadonlySet<string>): void {
    this.#ctx.paused = names;
  }

  /** Aborts this instance's runs of a watcher going on now (`pause --abort`). @returns how many. */
  abortRuns(name: string, reason: unknown): number {
    let n = 0;
    for (const entry of this.#ctx.inFlight) {
      if (entry.watcher !== name || entry.abort === undefined) continue;
      entry.abort(reason);
      n += 1;
    }
    return n;
  }

  /** The next `n` slots of a watcher from now (fixed-delay: assuming runs take no time). */
  nextSlots(name: string, n: number): Date[] {
    const job = this.#jobs.get(name);
    if (job === undefined) return [];
    const now = this.#ctx.clock.now();
    const armed = job.nextSlotMs;
    if (job.schedule.mode === 'fixed-delay') {
      const first = armed ?? job.schedule.first(now);
      return [first, ...job.schedule.nextSlots(first, n - 1)].slice(0, n).map((ms) => new Date(ms));
    }
    return job.schedule.nextSlots(now, n).map((ms) => new Date(ms));
  }

  /**
   * Every watcher with the slot its timer waits for (undefined = not armed) and whether this
   * instance has work of it in flight (a fixed-delay watcher has no timer while it runs): for
   * readiness.
   */
  scheduled(): ReadonlyArray<{ name: string; nextSlot: Date | undefined; running: boolean }> {
    const busy = new Set([...this.#ctx.inFlight].map((f) => f.watcher));
    return [...this.#jobs.values()].map((j) => ({
      name: j.name,
      nextSlot: j.nextSlotMs === undefined ? undefined : new Date(j.nextSlotMs),
      running: busy.has(j.name),
    }));
  }

  /**
   * Applies a new set of watchers (SIGHUP): new ones are armed, removed ones disarmed, changed ones
   * re-armed with their new schedule. Runs in flight keep going with the config they started with.
   * @throws ScheduleSpecError when a spec does not parse (nothing is changed then).
   */
  reconfigure(entries: ReadonlyArray<SchedulerEntry>): void {
    const parsed = entries.map((e) => ({ ...e, schedule: this.#schedule(e.config) }));
    const names = new Set(parsed.map((e) => e.watcher.name));
    for (const [name, job] of this.#jobs) {
      if (!names.has(name)) {
        job.stop();
        this.#jobs.delete(name);
      }
    }
    for (const e of parsed) {
      const job = this.#jobs.get(e.watcher.name);
      if (job === undefined) {
        const added = this.#add(e);
        if (this.#state === 'started') added.start();
      } else {
        job.update(e.watcher, e.config, e.schedule);
      }
    }
    this.#ctx.logger.info({ event: 'scheduler.reconfigured', watchers: [...names] }, 'schedules reloaded');
  }

  /** Counters per watcher since the scheduler was created. */
  stats(): ReadonlyMap<string, Readonly<WatcherStats>> {
    return this.#ctx.stats;
  }

  /** The last-run record of a watcher, cluster-wide (for `status`). */
  async lastRun(name: string): Promise<{ slot: string; [k: string]: unknown } | undefined> {
    const r = await this.#ctx.coordinator.lastRun(name);
    return r === undefined ? undefined : { ...r, slot: iso(r.slotMs) };
  }

  #add(e: SchedulerEntry & { schedule?: Schedule }): Job {
    if (this.#jobs.has(e.watcher.name))
      throw new IllegalStateError(`watcher "${e.watcher.name}" is listed twice`);
    const job = new Job(this.#ctx, e.watcher, e.config, e.schedule ?? this.#schedule(e.config));
    this.#jobs.set(e.watcher.name, job);
    this.#ctx.statsOf(e.watcher.name);
    return job;
  }

  /** One schedule object per distinct (spec, mode, zone), so watchers sharing a spec share its cache. */
  #schedule(c: WatcherConfig): Schedule {
    const key = `${c.schedule}\u0000${c.mode}\u0000${c.timeZone ?? ''}`;
    let s = this.#schedules.get(key);
    if (s === undefined) {
      s = parseSchedule(c.schedule, { mode: c.mode, timeZone: c.timeZone });
      this.#schedules.set(key, s);
    }
    return s;
  }
}
