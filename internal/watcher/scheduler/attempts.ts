/**
 * Retries within a slot (`watcher.<name>.retry.*`): a run that failed is tried again after a backoff
 * (doubling each time), as long as the next attempt would start before the watcher's next slot. Each
 * attempt takes the lease again the way its slot took it, so overlap and lease rules hold across
 * attempts: another run holding it (a trigger, a neighbour slot) ends the retries. Each attempt is
 * its own run: logged (`run.finished` with `attempt`, `run.retrying` before the next), counted and
 * recorded in the history.
 */
import { iso } from '../../pkg/clock/iso.js';
import type { LeaseScope } from '../lock/coordinator.js';
import type { SchedulerContext } from './context.js';
import { executeRun, type ExecutedRun, type ExecuteRunParams } from './execute-run.js';
import { gapAfter, type Schedule } from './spec.js';

/** Whether a watcher's config asks for retries. */
export function retries(p: Pick<ExecuteRunParams, 'config'>): boolean {
  return (p.config.retryAttempts ?? 1) > 1;
}

/**
 * Runs a slot's attempts under `p.lease` first, then under leases taken again with `scope`.
 * Never rejects. @returns the last attempt.
 */
export async function executeAttempts(
  ctx: SchedulerContext,
  p: ExecuteRunParams,
  scope: LeaseScope,
  schedule: Schedule,
): Promise<ExecutedRun> {
  if (!retries(p)) return executeRun(ctx, p);
  const attempts = p.config.retryAttempts ?? 1;
  const name = p.watcher.name;
  const nextSlotMs = p.manual ? Infinity : p.slotMs + gapAfter(schedule, p.slotMs);
  let backoffMs = p.config.retryBackoffMs ?? 0;
  let run = await executeRun(ctx, { ...p, attempt: 1 });
  for (let attempt = 2; attempt <= attempts && run.result === 'failed'; attempt++) {
    const why = refusal(ctx, name, backoffMs, nextSlotMs);
    const fields = {
      event: 'run.retrying',
      watcher: name,
      slot: iso(p.slotMs),
      instance: ctx.instanceId,
      attempt,
    };
    if (why !== undefined) {
      ctx.logger.warn({ ...fields, reason: why }, `no further attempt: ${why}`);
      break;
    }
    ctx.logger.info({ ...fields, backoffMs }, `attempt ${attempt - 1} failed; retrying in ${backoffMs} ms`);
    await ctx.sleep(backoffMs);
    const late = refusal(ctx, name, 0, nextSlotMs);
    if (late !== undefined) break;
    const lease = await ctx.coordinator.acquireLease(name, scope);
    if (lease.outcome !== 'acquired') {
      const held = lease.outcome === 'held';
      ctx.logger.warn(
        { ...fields, event: 'run.retry-skipped', reason: held ? 'overlap' : 'backend-unavailable' },
        held ? 'no further attempt: another run holds the lease' : 'no further attempt: the backend failed',
      );
      break;
    }
    run = await executeRun(ctx, { ...p, lease: lease.lease, attempt });
    backoffMs *= 2;
  }
  return run;
}

/** Why no attempt may start `waitMs` from now, or undefined when one may. */
function refusal(
  ctx: SchedulerContext,
  name: string,
  waitMs: number,
  nextSlotMs: number,
): string | undefined {
  if (ctx.stopping) return 'the daemon is stopping';
  if (ctx.paused.has(name)) return 'the watcher is paused';
  if (ctx.clock.now() + waitMs >= nextSlotMs) return 'the next slot comes first';
  return undefined;
}
