/**
 * Claims of cron and fixed-rate slots: what is asked of the coordinator for one slot, the batch
 * that claims the slots queued during one event-loop turn together and starts those claimed and
 * leased at their time, and the giving back of a claimed slot that does not run.
 */
import type { WatcherConfig } from '../config.js';
import type { ClaimLeaseResult, ClaimRequest, Lease } from '../lock/coordinator.js';
import type { AnyWatcher } from '../watcher/registry.js';
import type { SchedulerContext } from './context.js';
import { waitUntil } from './context.js';
import { startRun } from './execute-run.js';
import { executeAttempts, retries } from './attempts.js';
import type { Schedule } from './spec.js';
import { TurnBatch } from './turn-batch.js';

/** A watcher's entry as it is when one of its slots is claimed. */
export type SlotEntry = { watcher: AnyWatcher; config: WatcherConfig; schedule: Schedule };

/** Takes over a slot the batch did not simply claim and lease (`SlotRunner`). Never rejects. */
export interface ClaimRunner {
  afterClaim(c: SlotClaim, first: ClaimLeaseResult, opts: { startAtMs?: number }): Promise<unknown>;
}

/** One slot of one watcher on its way: what was asked of the coordinator, and for whom. */
export interface SlotClaim extends ClaimRequest {
  readonly runner: ClaimRunner;
  readonly entry: SlotEntry;
}

/** Claimed but not started (the instance stops): give the slot back, so an instance that stays can take it. */
export function giveBack(
  ctx: SchedulerContext,
  name: string,
  slotMs: number,
  lease: Lease,
  token: string,
): Promise<unknown> {
  return Promise.all([lease.release(), ctx.coordinator.unclaimSlot(name, slotMs, token)]);
}

/** A slot claimed and leased in a batch, to start at its time. */
interface Ready {
  readonly claim: SlotClaim;
  readonly lease: Lease;
  readonly token: string;
}

/**
 * The cron and fixed-rate slots queued during one event-loop turn (timers of watchers due at the
 * same instant fire in the same turn), claimed together in the next turn; those claimed and leased
 * start together at their slot time. The others (taken ahead of time elsewhere, overlap, backend
 * trouble) go on one by one through their runner's {@link ClaimRunner.afterClaim}.
 */
async function claimSlots(ctx: SchedulerContext, claims: readonly SlotClaim[]): Promise<void> {
  const results = await ctx.coordinator.claimAndLease(claims);
  const ready: Ready[] = [];
  claims.forEach((c, i) => {
    const r = results[i] ?? { claim: 'unavailable' };
    if (r.claim === 'claimed' && r.lease.outcome === 'acquired')
      ready.push({ claim: c, lease: r.lease.lease, token: r.token });
    else ctx.track(c.watcher, c.runner.afterClaim(c, r, { startAtMs: c.slotMs }));
  });
  // Slots of one batch are nearly always one instant; start each instant's runs together.
  const instants = [...new Set(ready.map((r) => r.claim.slotMs))].sort((a, b) => a - b);
  for (const slotMs of instants)
    await startAt(
      ctx,
      slotMs,
      ready.filter((r) => r.claim.slotMs === slotMs),
    );
}

/** Starts the runs of claimed slots at their time, or gives the slots back when shutdown came first. */
async function startAt(ctx: SchedulerContext, slotMs: number, ready: readonly Ready[]): Promise<void> {
  await waitUntil(ctx, slotMs);
  if (ctx.stopping) {
    await Promise.all(ready.map((r) => giveBack(ctx, r.claim.watcher, slotMs, r.lease, r.token)));
    return;
  }
  const pausedMeanwhile: Promise<unknown>[] = [];
  for (const { claim, lease, token } of ready) {
    const { watcher, config, schedule } = claim.entry;
    if (skippedAsPaused(ctx, watcher.name, slotMs)) {
      pausedMeanwhile.push(giveBack(ctx, watcher.name, slotMs, lease, token));
      continue;
    }
    const p = { watcher, config, slotMs, lease, manual: false };
    if (retries(p)) ctx.track(watcher.name, executeAttempts(ctx, p, claim.scope, schedule));
    else startRun(ctx, p);
  }
  await Promise.all(pausedMeanwhile);
}

/** A paused watcher's slot is skipped (reason `paused`) and not claimed: true when so. */
export function skippedAsPaused(ctx: SchedulerContext, name: string, slotMs: number): boolean {
  if (!ctx.paused.has(name)) return false;
  ctx.skipped(name, slotMs, 'paused');
  return true;
}

// One in-flight entry for a whole batch until its runs have started (or were given back): shutdown
// waits for it, and each run then counts on its own.
export const claiming = new TurnBatch<SlotClaim>((ctx, claims) =>
  ctx.track('(slot claims)', claimSlots(ctx, claims)),
);
