/**
 * One run under a held lease: build the run context, call the watcher, catch whatever it throws,
 * release the lease, and log the one `run.finished` line (DESIGN §7).
 */
import type { WatcherConfig } from '../config.js';
import type { LastRunRecord, Lease } from '../lock/coordinator.js';
import type { AnyWatcher, RunCounts, RunContext } from '../watcher/registry.js';
import type { InFlight, SchedulerContext } from './context.js';
import { iso } from './context.js';
import type { RunResult } from './types.js';

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
  /** The in-flight entry to attach the lease to (so `stop()` can release it when abandoning). */
  readonly inFlight?: InFlight;
}

/** Runs a watcher once. Never rejects. The lease is released before it resolves. */
export async function executeRun(ctx: SchedulerContext, p: ExecuteRunParams): Promise<ExecutedRun> {
  const name = p.watcher.name;
  // The watcher's own lines (its audit trail) carry `watcher` and `instance`; the run's events below
  // name them explicitly on the root logger, so no key appears twice in a line.
  const logger = ctx.watcherLogger(name);
  const events = ctx.logger;
  if (p.inFlight) p.inFlight.lease = p.lease;
  // One controller fed by the lease and by shutdown (cheaper than AbortSignal.any at 1000 runs/s).
  const controller = new AbortController();
  const signal = controller.signal;
  const onLost = (): void => {
    if (p.lease.lost)
      ctx.leaseLost({ watcher: name, slot: new Date(p.slotMs), key: p.lease.key }, p.lease.signal.reason);
    controller.abort(p.lease.signal.reason);
  };
  let unwatchLease = (): void => undefined;
  if (p.lease.lost) onLost();
  else unwatchLease = p.lease.onLost(onLost);
  ctx.runControllers.add(controller);
  if (ctx.stopController.signal.aborted) controller.abort(ctx.stopController.signal.reason);

  const runContext: RunContext<object> = {
    watcher: name,
    slot: new Date(p.slotMs),
    instanceId: ctx.instanceId,
    logger,
    signal,
    options: p.config.options,
    settings: { dryRun: p.dryRun ?? p.config.dryRun, batchSize: p.config.batchSize },
    db: ctx.db,
  };
  const startedMs = ctx.clock.now();
  // Debug: the contract is one info line per finished run (DESIGN §7); starts double the log volume.
  if (events.isLevelEnabled('debug')) {
    events.debug(
      {
        event: 'run.started',
        watcher: name,
        slot: iso(p.slotMs),
        instance: ctx.instanceId,
        manual: p.manual,
      },
      'run started',
    );
  }
  ctx.runStarted(name, p.slotMs, p.manual);

  let result: RunResult = 'ok';
  let counts: RunCounts = {};
  let failure: unknown;
  try {
    counts = (await p.watcher.run(runContext)) ?? {};
  } catch (err) {
    failure = err;
    result = signal.aborted ? 'aborted' : 'failed';
  }
  const endedMs = ctx.clock.now();
  const durationMs = endedMs - startedMs;
  ctx.runControllers.delete(controller);
  // The bookkeeping below (release, log line, record, hooks) waits one I/O turn, so that every run
  // whose claim has already come back starts first: when many watchers share a slot, their start
  // is what is late, not their end.
  await nextTurn();
  // Still watching while releasing: a lease that ran out during the run (a stalled event loop the
  // keeper could not see) is reported lost then (release checks that before it returns).
  const released = p.lease.release();
  unwatchLease();

  const error = failure === undefined ? undefined : errorMessage(failure);
  const slot = iso(p.slotMs);
  // Built field by field (no spreads): a thousand of these a second is garbage worth avoiding.
  const line: Record<string, unknown> = Object.assign({}, counts);
  line['event'] = 'run.finished';
  line['watcher'] = name;
  line['slot'] = slot;
  line['instance'] = ctx.instanceId;
  line['durationMs'] = durationMs;
  line['result'] = result;
  if (p.manual) line['manual'] = true;
  if (result === 'ok') events.info(line, 'run finished');
  else {
    line['err'] = failure;
    if (result === 'aborted') events.warn(line, 'run aborted');
    else events.error(line, `run of watcher "${name}" failed: ${error ?? ''}`);
  }

  // The release and the last-run record go out in the same turn: one command for both (and for
  // every other run that ends with this one, see ScriptBatcher).
  const record: Mutable<LastRunRecord> = {
    watcher: name,
    slotMs: p.slotMs,
    instance: ctx.instanceId,
    result,
    startedMs,
    durationMs,
    counts,
  };
  if (error !== undefined) record.error = error;
  if (p.manual) record.manual = true;
  const recorded = ctx.coordinator.recordRun(record).catch((err: unknown) => {
    events.debug({ event: 'last-run.unsaved', watcher: name, err }, 'could not store the last-run record');
  });
  await released;
  await recorded;
  const finished: Mutable<ExecutedRun> = { result, counts, startedMs, endedMs, durationMs };
  if (error !== undefined) finished.error = error;
  ctx.runFinished(name, result, () => ({
    watcher: name,
    slot: new Date(p.slotMs),
    instance: ctx.instanceId,
    result,
    durationMs,
    counts,
    manual: p.manual,
    ...(error === undefined ? {} : { error }),
  }));
  return finished;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One promise per event-loop turn that resolves in the next one: shared by every run ending now. */
let turn: Promise<void> | undefined;
function nextTurn(): Promise<void> {
  turn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  );
  return turn;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
