/**
 * One watcher's schedule: arms a timer for its next slot, notices slots it woke up too late for,
 * and hands each slot to {@link SlotRunner}. Cron and fixed-rate slots come from the spec; a
 * fixed-delay chain follows the cluster-wide end time of the previous run.
 */
import type { WatcherConfig } from '../config.js';
import type { AnyWatcher } from '../watcher/registry.js';
import type { SchedulerContext } from './context.js';
import { iso } from '../../pkg/clock/iso.js';
import type { LongTimer } from './long-timer.js';
import { setTimerAt } from './long-timer.js';
import { SlotRunner, type CurrentEntry } from './slot-runner.js';
import { countSlots, dueSlots, gapAfter, type Schedule } from './spec.js';

/** A slot later than this after its time is counted as missed instead of run (see {@link graceMs}). */
const MIN_GRACE_MS = 1_000;
const MAX_GRACE_MS = 60_000;
/**
 * A cron or fixed-rate slot is claimed this long before its time (at most a quarter of the gap
 * between slots): the claim's round trips are then over when the slot comes, and the run starts on
 * time instead of a round trip late (with a thousand watchers due at once, a queue of them).
 */
const MAX_CLAIM_LEAD_MS = 200;

/** The scheduling state of one watcher. */
export class Job {
  #timer: LongTimer | undefined;
  /** The slot the timer is armed for (the timer itself may fire a claim lead earlier). */
  #slotMs: number | undefined;
  /** What the timer calls with {@link #slotMs} when it fires. */
  #onTimer: (slotMs: number) => void = () => undefined;
  #active = false;
  /** Watcher, config and schedule as one snapshot, replaced (never changed) by {@link update}. */
  #entry: ReturnType<CurrentEntry>;
  readonly #runner: SlotRunner;

  constructor(
    private readonly ctx: SchedulerContext,
    public watcher: AnyWatcher,
    public config: WatcherConfig,
    public schedule: Schedule,
  ) {
    this.#entry = { watcher, config, schedule };
    this.#runner = new SlotRunner(ctx, () => this.#entry);
  }

  get name(): string {
    return this.watcher.name;
  }

  /** The slot the timer waits for, if armed. */
  get nextSlotMs(): number | undefined {
    return this.#timer === undefined ? undefined : this.#slotMs;
  }

  /** Arms the first slot; runs the start-up checks (missed slots, catch-up) in the background. */
  start(): void {
    this.#active = true;
    if (this.schedule.mode === 'fixed-delay') {
      this.#track(this.#startChain());
      return;
    }
    const now = this.ctx.clock.now();
    this.#armSlot(this.schedule.next(now));
    this.#track(this.#startupChecks(now));
  }

  /** Disarms the timer; runs in flight go on. */
  stop(): void {
    this.#active = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Applies a new config and schedule; a run in flight keeps the config it started with. */
  update(watcher: AnyWatcher, config: WatcherConfig, schedule: Schedule): void {
    const rescheduled = schedule !== this.schedule;
    this.watcher = watcher;
    this.config = config;
    this.schedule = schedule;
    this.#entry = { watcher, config, schedule };
    if (rescheduled && this.#active) {
      this.stop();
      this.start();
    }
  }

  /**
   * Arms the timer for `slotMs`, to fire `leadMs` before it; `onDue` gets the slot, not the firing
   * time.
   */
  #arm(slotMs: number, onDue: (slot: number) => void, leadMs = 0): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (!this.#active || this.ctx.stopping || !Number.isFinite(slotMs)) return;
    this.#slotMs = slotMs;
    this.#onTimer = onDue;
    this.#timer = setTimerAt(this.ctx.clock, slotMs - leadMs, this.#fire);
  }

  /** The timer callback: one per job, not one per slot (every slot of every watcher arms one). */
  readonly #fire = (): void => {
    this.#timer = undefined;
    if (this.#slotMs !== undefined) this.#onTimer(this.#slotMs);
  };

  /** Arms a cron or fixed-rate slot, a claim lead early (see {@link MAX_CLAIM_LEAD_MS}). */
  #armSlot(slotMs: number): void {
    const gap = Number.isFinite(slotMs) ? gapAfter(this.schedule, slotMs) : 0;
    const lead = Math.min(MAX_CLAIM_LEAD_MS, Math.floor(gap / 4));
    this.#arm(slotMs, this.#slotDue, lead);
  }

  readonly #slotDue = (slotMs: number): void => this.#onDue(slotMs);

  /**
   * A cron or fixed-rate slot is due (or a claim lead away): run the latest due slot, count the
   * ones overslept.
   */
  #onDue(slotMs: number): void {
    const now = this.ctx.clock.now();
    const { latest, overslept, next } = dueSlots(this.schedule, slotMs, now);
    this.#armSlot(next);
    const runLatest = now - latest <= graceMs(next - latest);
    const missed = overslept + (runLatest ? 0 : 1);
    if (missed > 0) {
      const last = runLatest ? (this.schedule.previous(latest) ?? latest) : latest;
      this.ctx.missed({
        watcher: this.name,
        count: missed,
        first: new Date(slotMs),
        last: new Date(last),
        cause: 'late',
      });
    }
    if (runLatest) this.#runner.queueSlot(latest);
  }

  /** At start-up: run the latest slot inside the catch-up window if nobody ran it; else count gaps. */
  async #startupChecks(now: number): Promise<void> {
    const prev = this.schedule.previous(now);
    // Paused: its slots are skipped on purpose, neither missed nor caught up.
    if (prev === undefined || this.ctx.paused.has(this.name)) return;
    const { coordinator } = this.ctx;
    try {
      const last = await coordinator.lastRun(this.name);
      if (last !== undefined && last.slotMs >= prev) return;
      // No record at all: a new watcher (it simply starts now, nothing missed), or a backend that
      // lost its memory (Redis restarted empty), where an unclaimed slot may still have run.
      // Safety over liveness: no catch-up then.
      if (last === undefined) return;
      if (await coordinator.isClaimed(this.name, prev)) return;
      if (this.config.catchUpMs > 0 && now - prev <= this.config.catchUpMs) {
        this.ctx.logger.info(
          { event: 'slot.catch-up', watcher: this.name, slot: iso(prev), instance: this.ctx.instanceId },
          'catching up the latest missed slot',
        );
        await this.#runner.runSlot(prev);
        return;
      }
      const count = countSlots(this.schedule, last.slotMs, prev);
      const first = this.schedule.next(last.slotMs);
      this.ctx.missed({
        watcher: this.name,
        count,
        first: new Date(first),
        last: new Date(prev),
        cause: 'down',
      });
    } catch (err) {
      this.ctx.logger.debug(
        { event: 'startup-check.failed', watcher: this.name, err },
        'start-up slot check failed',
      );
    }
  }

  // ---- fixed-delay ------------------------------------------------------------------------------

  /** Reads the chain and arms its next slot. */
  async #startChain(): Promise<void> {
    let end: number | undefined;
    try {
      end = await this.ctx.coordinator.chainEnd(this.name);
    } catch {
      // Backend down: follow the grid until it answers; the first slot will be skipped and counted.
      this.#arm(this.schedule.first(this.ctx.clock.now()), (s) => this.#onChainDue(s, undefined));
      return;
    }
    this.#armChain(end, true);
  }

  /** Arms the slot after a chain end; an overdue chain restarts on the grid (or catches up once). */
  #armChain(end: number | undefined, atStartup: boolean): void {
    const now = this.ctx.clock.now();
    if (end === undefined) {
      this.#arm(this.schedule.first(now), (s) => this.#onChainDue(s, end));
      return;
    }
    const slot = this.schedule.next(end);
    const late = now - slot;
    if (late <= graceMs(this.schedule.intervalMs ?? 0)) {
      this.#arm(Math.max(slot, now), (s) => this.#onChainDue(s, end, slot));
      return;
    }
    if (atStartup && this.config.catchUpMs > 0 && late <= this.config.catchUpMs) {
      this.#arm(now, () => this.#onChainDue(slot, end, slot));
      return;
    }
    this.ctx.missed({
      watcher: this.name,
      count: 1,
      first: new Date(slot),
      last: new Date(slot),
      cause: 'down',
    });
    // Every instance restarts the chain on the same grid slot, so the claim still works.
    this.#arm(this.schedule.first(now), (s) => this.#onChainDue(s, end));
  }

  #onChainDue(firedAt: number, expectedEnd: number | undefined, slotMs: number = firedAt): void {
    this.#track(this.#chainStep(slotMs, expectedEnd));
  }

  /** Runs (or follows) one fixed-delay slot, then arms the next. */
  async #chainStep(slotMs: number, expectedEnd: number | undefined): Promise<void> {
    if (expectedEnd === undefined && (await this.#chainStartedElsewhere())) return;
    const outcome = await this.#runner.runSlot(slotMs, { chainEnd: expectedEnd });
    if (!this.#active || this.ctx.stopping) return;
    if (outcome.kind === 'ran') {
      this.#armChain(outcome.chainEnd, false);
    } else if (outcome.kind === 'claimed-elsewhere') {
      await this.#followChain(slotMs, expectedEnd);
    } else {
      // Skipped here (backend down, overlap): the chain did not move; try again one interval on.
      this.#arm(slotMs + (this.schedule.intervalMs ?? 0), (s) => this.#onChainDue(s, expectedEnd));
    }
  }

  /**
   * A grid slot armed while no chain existed: if another instance has run the watcher since (it
   * started earlier, or this one started during that instance's first run), follow its chain
   * instead of starting a second one on the grid. True when the chain was followed.
   */
  async #chainStartedElsewhere(): Promise<boolean> {
    let end: number | undefined;
    try {
      end = await this.ctx.coordinator.chainEnd(this.name);
    } catch {
      return false; // Backend down: the claim will say so.
    }
    if (end === undefined || !this.#active || this.ctx.stopping) return false;
    this.#armChain(end, false);
    return true;
  }

  /** Another instance runs the slot: wait for the chain to move, then arm after its new end. */
  async #followChain(slotMs: number, expectedEnd: number | undefined): Promise<void> {
    const { coordinator, clock, pollMs } = this.ctx;
    const leaseMs = coordinator.leaseMs;
    for (;;) {
      if (!this.#active || this.ctx.stopping) return;
      await this.ctx.sleep(pollMs);
      try {
        const end = await coordinator.chainEnd(this.name);
        if (end !== expectedEnd) {
          this.#armChain(end, false);
          return;
        }
        // Still the old end: the run goes on, unless its holder died (no lease, well past the slot).
        if (clock.now() - slotMs > leaseMs + pollMs && !(await coordinator.isRunning(this.name))) {
          if (await coordinator.advanceChain(this.name, expectedEnd, clock.now())) {
            this.ctx.logger.warn(
              {
                event: 'chain.restarted',
                watcher: this.name,
                slot: iso(slotMs),
                instance: this.ctx.instanceId,
              },
              'the run of this fixed-delay slot vanished (its instance died?): the chain restarts now',
            );
          }
        }
      } catch {
        // Backend down: keep polling; the outage is logged by the coordinator.
      }
    }
  }

  #track(p: Promise<void>): void {
    this.ctx.track(this.name, p);
  }
}

/** How late a slot may start and still run: a second, or half the gap to the next slot, at most a minute. */
export function graceMs(gapMs: number): number {
  return Math.max(MIN_GRACE_MS, Math.min(gapMs / 2, MAX_GRACE_MS));
}
