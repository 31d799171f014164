/**
 * The daemon's side of the operator controls (`pause`, `resume`, `trigger`): one poll of Redis every
 * {@link POLL_MS} for all watchers together (the paused hash and at most one trigger request, one
 * round trip), so a pause reaches every replica well within a second and no slot pays a round trip
 * for it. The scheduler gets the paused set; the metrics the `iam_watcher_paused` gauge; each change
 * is logged once per replica (`watcher.paused`, `watcher.resumed`). A trigger request taken here
 * runs through {@link Scheduler.runNow} (the lease and overlap policy of a scheduled run) and is
 * answered on its reply list.
 */
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { RedisLike } from './lock/index.js';
import {
  pollControl,
  readPaused,
  replyTrigger,
  type PauseRecord,
  type TriggerReply,
  type TriggerRequest,
} from './lock/redis/control.js';
import { WatcherError } from './errors.js';

/** How often a replica reads the controls. */
export const POLL_MS = 250;
/** A request older than this when taken is dropped: its CLI has given up waiting for a replica. */
export const TRIGGER_MAX_AGE_MS = 10_000;
/** While a triggered run goes, the replica says so this often (the CLI gives up after silence). */
export const TRIGGER_HEARTBEAT_MS = 2_000;

/** What the loop works with. */
export interface ControlLoopDeps {
  readonly redis: RedisLike;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Polls the controls and applies them to a scheduler. */
export class ControlLoop {
  #paused = new Map<string, PauseRecord>();
  #timer: NodeJS.Timeout | undefined;
  #scheduler: Scheduler | undefined;
  #failing = false;
  #stopped = false;

  constructor(private readonly d: ControlLoopDeps) {}

  /**
   * Reads the paused watchers once, before the scheduler starts, so that a replica (re)started while
   * a watcher is paused never runs its first slot. A failure is logged; the loop retries.
   */
  async load(): Promise<ReadonlySet<string>> {
    try {
      this.#apply(await readPaused(this.d.redis, this.d.keyPrefix));
    } catch (err) {
      this.#failed(err);
    }
    return new Set(this.#paused.keys());
  }

  /** Starts polling, applying the controls to `scheduler`. */
  start(scheduler: Scheduler): void {
    this.#scheduler = scheduler;
    scheduler.setPaused(new Set(this.#paused.keys()));
    this.#arm();
  }

  /** Stops polling. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll().finally(() => this.#arm()), POLL_MS);
  }

  async #poll(): Promise<void> {
    let state;
    try {
      state = await pollControl(this.d.redis, this.d.keyPrefix);
    } catch (err) {
      this.#failed(err);
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      this.d.logger.info({ event: 'control.recovered' }, 'operator controls readable again');
    }
    this.#apply(state.paused);
    if (state.trigger !== undefined) this.#trigger(state.trigger);
  }

  #failed(err: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.d.logger.warn(
      { event: 'control.unreadable', err },
      'cannot read the operator controls (pause, trigger) from Redis; keeping the last known state',
    );
  }

  /** Logs what changed, then hands the paused set to the scheduler and the metrics. */
  #apply(next: Map<string, PauseRecord>): void {
    const { logger, instanceId } = this.d;
    let changed = next.size !== this.#paused.size;
    for (const [name, r] of next) {
      const before = this.#paused.get(name);
      if (before !== undefined && before.atMs === r.atMs) continue;
      changed = true;
      logger.info(
        {
          event: 'watcher.paused',
          watcher: name,
          note: r.note,
          issuedAt: new Date(r.atMs).toISOString(),
          issuedBy: { host: r.host, instance: r.instance },
          abort: r.abort,
          instance: instanceId,
        },
        `watcher "${name}" paused${r.note ? `: ${r.note}` : ''}`,
      );
      if (r.abort) this.#abortRuns(name, r);
    }
    for (const name of this.#paused.keys()) {
      if (next.has(name)) continue;
      logger.info(
        { event: 'watcher.resumed', watcher: name, instance: instanceId },
        `watcher "${name}" resumed`,
      );
    }
    this.#paused = next;
    if (!changed) return;
    const names = new Set(next.keys());
    this.#scheduler?.setPaused(names);
    this.d.metrics.setPaused(names);
  }

  #abortRuns(name: string, r: PauseRecord): void {
    const reason = new WatcherError('PAUSED', `watcher "${name}" was paused with --abort`);
    const n = this.#scheduler?.abortRuns(name, reason) ?? 0;
    if (n > 0) {
      this.d.logger.warn(
        { event: 'run.abort-requested', watcher: name, runs: n, note: r.note, instance: this.d.instanceId },
        `pause --abort: aborting ${n} run(s) of watcher "${name}"`,
      );
    }
  }

  /** Runs a trigger request taken from the queue and answers it. Never rejects. */
  #trigger(req: TriggerRequest): void {
    const { logger, instanceId } = this.d;
    const scheduler = this.#scheduler;
    const fields = {
      event: 'trigger.taken',
      watcher: req.watcher,
      id: req.id,
      from: req.host,
      instance: instanceId,
    };
    if (Date.now() - req.atMs > TRIGGER_MAX_AGE_MS) {
      logger.info(
        { ...fields, event: 'trigger.expired' },
        'trigger request dropped: its CLI stopped waiting',
      );
      return;
    }
    const known = scheduler?.scheduled().some((s) => s.name === req.watcher) ?? false;
    const refusal = !known
      ? `watcher "${req.watcher}" is not enabled on instance ${instanceId}`
      : this.#paused.has(req.watcher)
        ? `watcher "${req.watcher}" is paused; resume it first`
        : undefined;
    if (scheduler === undefined || refusal !== undefined) {
      logger.info(
        { ...fields, event: 'trigger.refused', reason: refusal },
        `trigger refused: ${refusal ?? ''}`,
      );
      this.#reply(req, { state: 'refused', instance: instanceId, reason: refusal ?? 'not started' });
      return;
    }
    logger.info(fields, `trigger: running watcher "${req.watcher}" now`);
    this.#reply(req, { state: 'accepted', instance: instanceId });
    const heartbeat = setInterval(
      () => this.#reply(req, { state: 'running', instance: instanceId }),
      TRIGGER_HEARTBEAT_MS,
    );
    const running = scheduler.runNow(req.watcher, { dryRun: req.dryRun });
    void running.finally(() => clearInterval(heartbeat)).catch(() => undefined);
    void running.then(
      (r) => {
        const reply: TriggerReply =
          r.result === 'skipped'
            ? { state: 'refused', instance: instanceId, reason: r.error ?? 'skipped' }
            : {
                state: 'done',
                instance: instanceId,
                result: r.result,
                counts: r.counts,
                durationMs: r.durationMs,
                ...(r.error === undefined ? {} : { error: r.error }),
              };
        this.#reply(req, reply);
      },
      (err: unknown) => {
        logger.error({ ...fields, event: 'trigger.failed', err }, 'trigger run failed to start');
        this.#reply(req, { state: 'refused', instance: instanceId, reason: String(err) });
      },
    );
  }

  #reply(req: TriggerRequest, reply: TriggerReply): void {
    replyTrigger(this.d.redis, this.d.keyPrefix, req.id, reply).catch((err: unknown) =>
      this.d.logger.warn(
        { event: 'trigger.unanswered', watcher: req.watcher, id: req.id, err },
        'could not answer a trigger request',
      ),
    );
  }
}
