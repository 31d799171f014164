/** A slot claim as the scheduler makes it for one slot: a batch of one. */
import type { ClaimLeaseResult, Coordinator, LeaseScope } from '../../internal/watcher/lock/index.js';

/** Claims one slot and takes its lease (`running` unless `scope` says otherwise). */
export async function claimOne(
  c: Coordinator,
  watcher: string,
  slotMs: number,
  retainMs: number,
  scope: LeaseScope = { kind: 'running' },
): Promise<ClaimLeaseResult> {
  const results = await c.claimAndLease([{ watcher, slotMs, retainMs, scope }]);
  if (results.length !== 1) throw new Error(`claimAndLease answered ${results.length} results for 1 request`);
  return results[0]!;
}
