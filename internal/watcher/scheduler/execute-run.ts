/**
 * One run under a held lease: build the run context (run-context.ts), call the watcher, catch
 * whatever it throws, release the lease, store the last-run record and log the one `run.finished`
 * line (DESIGN §7).
 *
 * Runs that end in the same event-loop turn finish together: their releases and records go to the
 * coordinator as one batch (one command on a single Redis server), after which each is counted.
 */
import type { WatcherConfig } from '../config.js';
import type { LastRunRecord, Lease } from '../lock/coordinator.js';
import { iso } from '../../pkg/clock/iso.js';
import type { TimerHandle } from '../../pkg/clock/clock.js';
import { runCounts } from '../watcher/registry.js';
import type { AnyWatcher, RunCounts } from '../watcher/registry.js';
import type { InFlight, SchedulerContext } from './context.js';
import { TurnBatch } from './turn-batch.js';
import { WatcherError } from '../errors.js';
import type { RunFinishedInfo, RunResult } from './types.js';
import { settingsOf, WatcherContext } from './run-context.js';

/** What a finished run reports back to its caller. */
export interface ExecutedRun {
  readonly result: RunResult;
  readonly counts: RunCounts;
  readonly startedMs: number;
  readonly endedMs: number;
  readonly durationMs: number;
  readonly error?: string;
}

/** Parameters of {@link executeRun}. */
export interface ExecuteRunParams {
  readonly watcher: AnyWatcher;
  readonly config: WatcherConfig;
  readonly slotMs: number;
  readonly lease: Lease;
  readonly manual: boolean;
  readonly dryRun?: boolean;
  /** The attempt within its slot (retries); absent for a watcher that does not retry. */
  readonly attempt?: number;
}

/** Runs a watcher once. Never rejects. The lease is released before it resolves. */
export function executeRun(ctx: SchedulerContext, p: ExecuteRunParams): Promise<ExecutedRun> {
  return new Promise((resolve) => {
    startRun(ctx, p, resolve);
  });
}

/**
 * Starts a run now and returns at once; `onFinished` (if given) hears of it once its lease is
 * released and its record stored. The run is in the scheduler's in-flight table until then.
 */
export function startRun(
  ctx: SchedulerContext,
  p: ExecuteRunParams,
  onFinished?: (run: ExecutedRun) => void,
): void {
  const run = new Run(ctx, p, onFinished);
  ctx.enter(run);
  if (ctx.stopController.signal.aborted) run.context.abort(ctx.stopController.signal.reason);
  const events = ctx.logger;
  // Debug: the contract is one info line per finished run (DESIGN §7); starts double the log volume.
  if (events.isLevelEnabled('debug')) {
    events.debug(
      {
        event: 'run.started',
        watcher: run.watcher,
        slot: iso(p.slotMs),
        instance: ctx.instanceId,
        manual: p.manual,
      },
      'run started',
    );
  }
  ctx.runStarted(run.watcher, p.slotMs, p.manual);
  run.startedMs = ctx.clock.now();
  armTimeout(run, p.config.timeoutMs);
  let running: Promise<RunCounts | void>;
  try {
    running = p.watcher.run(run.context);
  } catch (err) {
    run.end(run.context.aborted ? 'aborted' : 'failed', {}, err);
    return;
  }
  running.then(
    (counts) => run.end('ok', counts, undefined),
    (err: unknown) => run.end(run.context.aborted ? 'aborted' : 'failed', {}, err),
  );
}

/** The scheduler's side of a run: its lease, its outcome, its place in the in-flight table. */
class Run implements InFlight {
  readonly watcher: string;
  lease: Lease;
  readonly context: WatcherContext;
  startedMs = 0;
  endedMs = 0;
  result: RunResult = 'ok';
  counts: RunCounts = {};
  error: string | undefined;
  failure: unknown;
  #ended = false;

  constructor(
    readonly ctx: SchedulerContext,
    readonly params: ExecuteRunParams,
    readonly onFinished: ((run: ExecutedRun) => void) | undefined,
  ) {
    const name = params.watcher.name;
    this.watcher = name;
    this.lease = params.lease;
    // The watcher's own lines (its audit trail) and its `run.finished` line carry `watcher` and
    // `instance` from the watcher's logger (the line itself names neither: no key twice).
    this.context = new WatcherContext(
      name,
      new Date(params.slotMs),
      ctx.instanceId,
      ctx.watcherLogger(name),
      params.config.options,
      settingsOf(params.config, params.dryRun),
      ctx.db,
      ctx.dbConnectionLimit,
    );
    // A lost lease aborts the run at once (the listener stays until the run has finished: a lease
    // that ran out during a stalled event loop is found lost when it is released).
    this.#unwatch = params.lease.onLost(this.#onLost);
  }

  /** Shutdown (see {@link InFlight.abort}); a run that has ended keeps its result. */
  abort(reason: unknown): void {
    if (!this.#ended) this.context.abort(reason);
  }

  readonly #onLost = (reason: unknown): void => {
    const { lease, slotMs } = this.params;
    this.ctx.leaseLost({ watcher: this.watcher, slot: new Date(slotMs), key: lease.key }, reason);
    this.context.abort(reason);
  };
  #unwatch: () => void = () => undefined;

  /** Set when `timeout` aborted the run (see {@link armTimeout}). */
  timer: TimerHandle;
  timedOut = false;

  /** The watcher's promise settled: queue the bookkeeping for the end of this turn. */
  end(settled: RunResult, counts: RunCounts | void, failure: unknown): void {
    this.#ended = true;
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    const result = this.timedOut && settled !== 'ok' ? 'timeout' : settled;
    this.endedMs = this.ctx.clock.now();
    this.result = result;
    this.counts = runCounts(counts, this.context.counted);
    if (result !== 'ok') {
      this.failure = failure;
      this.error = this.ctx.censor(failure instanceof Error ? failure.message : String(failure));
    }
    finishing.push(this.ctx, this);
  }

  record(): LastRunRecord {
    const record: Mutable<LastRunRecord> = {
      watcher: this.watcher,
      slotMs: this.params.slotMs,
      instance: this.ctx.instanceId,
      result: this.result,
      startedMs: this.startedMs,
      durationMs: this.endedMs - this.startedMs,
      counts: this.counts,
    };
    // Optional fields are set, not spread in: a spread after the first one takes V8's slow path,
    // and this runs once per run (a thousand a second in `make bench-scheduler`).
    if (this.error !== undefined) record.error = this.error;
    if (this.params.manual) record.manual = true;
    if (this.params.attempt !== undefined) record.attempt = this.params.attempt;
    return record;
  }

  /**
   * The one `run.finished` line: the run's counts, then its fields. Written through the watcher's
   * logger, whose `watcher` and `instance` pino serialized once when it made it.
   */
  log(): void {
    const line: Record<string, unknown> = {
      ...this.counts,
      event: 'run.finished',
      slot: iso(this.params.slotMs),
      durationMs: this.endedMs - this.startedMs,
      result: this.result,
    };
    if (this.params.manual) line['manual'] = true;
    if (this.params.attempt !== undefined) line['attempt'] = this.params.attempt;
    const events = this.context.logger;
    if (this.result === 'ok') events.info(line, 'run finished');
    else if (this.result === 'aborted') events.warn({ ...line, err: this.failure }, 'run aborted');
    else if (this.result === 'timeout')
      events.error({ ...line, err: this.failure }, `run of watcher "${this.watcher}" timed out`);
    else
      events.error(
        { ...line, err: this.failure },
        `run of watcher "${this.watcher}" failed: ${this.error ?? ''}`,
      );
  }

  /** Released and recorded: count it, leave the in-flight table, tell the caller. */
  finished(): void {
    this.#unwatch();
    this.ctx.runFinished(this.watcher, this.result, this);
    this.ctx.leave(this);
    this.onFinished?.({
      result: this.result,
      counts: this.counts,
      startedMs: this.startedMs,
      endedMs: this.endedMs,
      durationMs: this.endedMs - this.startedMs,
      ...(this.error === undefined ? {} : { error: this.error }),
    });
  }

  info(): RunFinishedInfo {
    return {
      watcher: this.watcher,
      slot: new Date(this.params.slotMs),
      instance: this.ctx.instanceId,
      result: this.result,
      durationMs: this.endedMs - this.startedMs,
      counts: this.counts,
      rows: this.context.settings.dryRun ? {} : this.context.counted,
      manual: this.params.manual,
      ...(this.params.attempt === undefined ? {} : { attempt: this.params.attempt }),
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }
}

/**
 * `watcher.<name>.timeout`: aborts the run's signal once it has run that long; the run then ends
 * as `timeout` (unless it still ends ok). No timer at all for a watcher without a timeout.
 */
function armTimeout(run: Run, timeoutMs: number | undefined): void {
  if (timeoutMs === undefined || timeoutMs <= 0) return;
  run.timer = run.ctx.clock.setTimeout(() => {
    run.timedOut = true;
    run.context.abort(
      new WatcherError(
        'RUN_TIMEOUT',
        `run of watcher "${run.watcher}" exceeded its timeout of ${timeoutMs} ms`,
      ),
    );
  }, timeoutMs);
}

/**
 * Finishes the runs that ended during one turn, in the next one: by then every run whose claim had
 * come back has started (when many watchers share a slot, their start is what is late, not their
 * end), and the releases and records of all of them go out together.
 */
function finishRuns(ctx: SchedulerContext, runs: readonly Run[]): void {
  // Still watching the leases while releasing: one that ran out during the run (a stalled event
  // loop the keeper could not see) is reported lost then (the release checks that first).
  const done = ctx.coordinator.finishRuns(runs.map((run) => ({ lease: run.lease, record: run.record() })));
  for (const run of runs) run.log();
  const finished = (): void => {
    for (const run of runs) run.finished();
  };
  // finishRuns never rejects; the second handler is the belt to its braces (a run must leave the table).
  done.then(finished, finished);
}

const finishing = new TurnBatch<Run>(finishRuns);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
