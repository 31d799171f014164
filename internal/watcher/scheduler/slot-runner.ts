/**
 * One slot, start to end: claim it cluster-wide, apply the overlap policy through the "running"
 * lease, run it under that lease, and (fixed-delay) move the chain to the run's end.
 */
import type { ClaimLeaseResult, Lease, LeaseScope } from '../lock/coordinator.js';
import type { SchedulerContext } from './context.js';
import { waitUntil } from './context.js';
import { executeAttempts } from './attempts.js';
import type { ExecutedRun } from './execute-run.js';
import { gapAfter, type Schedule } from './spec.js';
import {
  claiming,
  giveBack,
  skippedAsPaused,
  type ClaimRunner,
  type SlotClaim,
  type SlotEntry,
} from './slot-claims.js';

/** How long a claim key lives, in units of max(lease, gap between slots). */
const CLAIM_RETAIN_FACTOR = 3;
const MIN_CLAIM_RETAIN_MS = 60_000;
/**
 * Overlap `skip` re-tries the running lease for this long after the slot time before it skips: a
 * run that is just ending (or, with clocks skewed by more than a slot, another instance's run of
 * a neighbouring slot) should not cost a slot. A quarter of the gap between slots, at most this.
 */
const SKIP_RETRY_MAX_MS = 250;
const SKIP_RETRY_POLL_MS = 25;
/**
 * A slot another instance claimed ahead of its time is claimed once more this long after the slot
 * time, in case that instance stopped in between and gave it back.
 */
const RECHECK_AFTER_SLOT_MS = 50;

/** What became of a slot. */
export type SlotOutcome =
  | { readonly kind: 'ran'; readonly run: ExecutedRun; readonly chainEnd: number | undefined }
  | { readonly kind: 'claimed-elsewhere' }
  | { readonly kind: 'skipped' };

/** The watcher, config and schedule as they are now (a reload may change them between slots). */
export type CurrentEntry = () => SlotEntry;

const RUNNING: LeaseScope = { kind: 'running' };

/** Runs slots of one watcher. */
export class SlotRunner implements ClaimRunner {
  /** A slot of this instance waits for the running one (overlap delay). */
  #waiting = false;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly current: CurrentEntry,
  ) {}

  /**
   * A cron or fixed-rate slot, claimed now (ahead of its time) and run at `slotMs`. The claims of
   * all watchers queued in one turn go to the coordinator together (see `claimSlots` in
   * slot-claims.ts); a slot that is not simply claimed and leased goes on as {@link runSlot} would.
   */
  queueSlot(slotMs: number): void {
    if (this.ctx.stopping || skippedAsPaused(this.ctx, this.current().watcher.name, slotMs)) return;
    claiming.push(this.ctx, this.#claimOf(slotMs));
  }

  /** What to ask of the coordinator for `slotMs`, with the watcher's current entry. */
  #claimOf(slotMs: number): SlotClaim {
    const entry = this.current();
    const scope: LeaseScope =
      entry.config.overlap === 'allow' && entry.schedule.mode !== 'fixed-delay'
        ? { kind: 'slot', slotMs }
        : RUNNING;
    return {
      runner: this,
      entry,
      watcher: entry.watcher.name,
      slotMs,
      retainMs: this.#retainMs(entry.schedule, slotMs),
      scope,
    };
  }

  /**
   * Claims and runs one slot. Never rejects.
   * @param opts.chainEnd fixed-delay: the chain end this slot follows (moved to the run's end after).
   * @param opts.startAtMs claimed early: the run waits for this instant (the slot time) to start.
   */
  async runSlot(
    slotMs: number,
    opts: { chainEnd?: number | undefined; startAtMs?: number } = {},
  ): Promise<SlotOutcome> {
    if (this.ctx.stopping || skippedAsPaused(this.ctx, this.current().watcher.name, slotMs))
      return { kind: 'skipped' };
    const claim = this.#claimOf(slotMs);
    // Claim and lease in one step (one round trip on Redis); the lease is only taken when claimed.
    return this.afterClaim(claim, await this.#claim(claim), opts);
  }

  /** The rest of {@link runSlot} once the first claim answered. Never rejects. */
  async afterClaim(
    c: SlotClaim,
    first: ClaimLeaseResult,
    opts: { chainEnd?: number | undefined; startAtMs?: number },
  ): Promise<SlotOutcome> {
    const { watcher, config, schedule } = c.entry;
    const { watcher: name, slotMs, scope } = c;
    let r = first;
    if (r.claim === 'taken' && opts.startAtMs !== undefined && this.ctx.clock.now() < opts.startAtMs) {
      // Another instance claimed the slot ahead of its time. If that instance stops before the
      // slot time it gives the slot back (below): look once more just after the slot time.
      await waitUntil(this.ctx, opts.startAtMs + RECHECK_AFTER_SLOT_MS);
      if (!this.ctx.stopping) r = await this.#claim(c);
    }
    if (r.claim !== 'claimed') {
      this.ctx.skipped(name, slotMs, r.claim === 'taken' ? 'claimed' : 'backend-unavailable');
      return r.claim === 'taken' ? { kind: 'claimed-elsewhere' } : { kind: 'skipped' };
    }
    let lease: Lease | 'held' | 'unavailable' =
      r.lease.outcome === 'acquired' ? r.lease.lease : r.lease.outcome;
    if (lease === 'held' && config.overlap === 'delay') lease = await this.#waitForRunning(name, slotMs);
    if (lease === 'held' && config.overlap === 'skip')
      lease = await this.#retryBriefly(name, slotMs, scope, schedule);
    if (lease === 'held' || lease === 'unavailable') {
      this.ctx.skipped(name, slotMs, lease === 'held' ? 'overlap' : 'backend-unavailable');
      // This instance holds the slot's claim: it alone puts the skip in the history.
      if (lease === 'held')
        void this.ctx.coordinator.recordSkipped(name, slotMs, this.ctx.instanceId, 'overlap');
      return { kind: 'skipped' };
    }
    if (opts.startAtMs !== undefined) await waitUntil(this.ctx, opts.startAtMs);
    if (this.ctx.stopping) {
      await giveBack(this.ctx, name, slotMs, lease, r.token);
      return { kind: 'skipped' };
    }
    const run = await executeAttempts(
      this.ctx,
      { watcher, config, slotMs, lease, manual: false },
      scope,
      schedule,
    );
    if (schedule.mode !== 'fixed-delay') return { kind: 'ran', run, chainEnd: undefined };
    return { kind: 'ran', run, chainEnd: await this.#advanceChain(name, opts.chainEnd, run.endedMs) };
  }

  /** Claims one slot and takes its lease: a batch of one. */
  async #claim(c: SlotClaim): Promise<ClaimLeaseResult> {
    const [r] = await this.ctx.coordinator.claimAndLease([c]);
    return r ?? { claim: 'unavailable' };
  }

  async #lease(name: string, scope: LeaseScope): Promise<Lease | 'held' | 'unavailable'> {
    const r = await this.ctx.coordinator.acquireLease(name, scope);
    return r.outcome === 'acquired' ? r.lease : r.outcome;
  }

  /** Overlap skip: re-tries the running lease until a short deadline after the slot time. */
  async #retryBriefly(
    name: string,
    slotMs: number,
    scope: LeaseScope,
    schedule: Schedule,
  ): Promise<Lease | 'held' | 'unavailable'> {
    const deadline = slotMs + Math.min(SKIP_RETRY_MAX_MS, gapAfter(schedule, slotMs) / 4);
    while (!this.ctx.stopping && this.ctx.clock.now() + SKIP_RETRY_POLL_MS <= deadline) {
      await this.ctx.sleep(SKIP_RETRY_POLL_MS);
      const r = await this.#lease(name, scope);
      if (r !== 'held') return r;
    }
    return 'held';
  }

  /** Overlap delay: at most one slot waits, cluster-wide (the "waiting" lease), polling the running one. */
  async #waitForRunning(name: string, slotMs: number): Promise<Lease | 'held' | 'unavailable'> {
    if (this.#waiting) return 'held';
    const marker = await this.#lease(name, { kind: 'waiting' });
    if (typeof marker === 'string') return marker;
    this.#waiting = true;
    this.ctx.logger.info(
      {
        event: 'run.delayed',
        watcher: name,
        slot: new Date(slotMs).toISOString(),
        instance: this.ctx.instanceId,
      },
      'slot waits for the previous run to end',
    );
    try {
      while (!this.ctx.stopping && !marker.lost) {
        await this.ctx.sleep(this.ctx.pollMs);
        if (this.ctx.stopping || marker.lost) break;
        const r = await this.#lease(name, { kind: 'running' });
        if (r !== 'held') return r;
      }
      return 'held';
    } finally {
      this.#waiting = false;
      await marker.release();
    }
  }

  /** Moves the chain from the end this slot followed to this run's end; returns the chain's end. */
  async #advanceChain(
    name: string,
    expected: number | undefined,
    endMs: number,
  ): Promise<number | undefined> {
    try {
      if (await this.ctx.coordinator.advanceChain(name, expected, endMs)) return endMs;
      return await this.ctx.coordinator.chainEnd(name);
    } catch (err) {
      this.ctx.logger.warn(
        { event: 'chain.unsaved', watcher: name, err },
        'could not store the fixed-delay chain',
      );
      return endMs;
    }
  }

  #retainMs(schedule: Schedule, slotMs: number): number {
    const base = Math.max(this.ctx.coordinator.leaseMs, gapAfter(schedule, slotMs));
    return Math.max(MIN_CLAIM_RETAIN_MS, base * CLAIM_RETAIN_FACTOR);
  }
}
