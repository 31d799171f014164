/**
 * `lock.backend: local`: the coordinator's semantics inside one process (one instance, no cluster).
 * Claims, leases, the chain and last-run records live in maps; claims expire like Redis keys.
 */
import type { Clock } from '../../pkg/clock/clock.js';
import { systemClock } from '../../pkg/clock/clock.js';
import type {
  ClaimLeaseResult,
  Coordinator,
  LastRunRecord,
  Lease,
  LeaseResult,
  LeaseScope,
} from './coordinator.js';
import { keyNames } from './keys.js';

/** Options of {@link createLocalCoordinator}. */
export interface LocalCoordinatorOptions {
  readonly instanceId: string;
  /** `lock.key-prefix`; kept for symmetry with Redis (names the keys in messages). */
  readonly keyPrefix?: string;
  /** `lock.lease`; a lease in one process cannot be lost, so it only matters for symmetry. */
  readonly leaseMs?: number;
  readonly logger?: unknown;
  /** @defaultValue the system clock */
  readonly clock?: Clock;
}

/**
 * Creates the in-process coordinator. It coordinates nothing across instances: the caller should
 * warn at start-up (the daemon logs `lock.local`).
 */
export function createLocalCoordinator(options: LocalCoordinatorOptions): Coordinator {
  const clock = options.clock ?? systemClock;
  const keys = keyNames(options.keyPrefix ?? 'iam-watcher:');
  const claims = new Map<string, number>();
  const leases = new Map<string, LocalLease>();
  const chains = new Map<string, number>();
  const records = new Map<string, LastRunRecord>();
  const holders = new Map<string, { instance: string; sinceMs: number; key: string }>();

  const sweep = (now: number): void => {
    if (claims.size < 10_000) return;
    for (const [k, exp] of claims) if (exp <= now) claims.delete(k);
  };

  /** True when the slot was free (its claim is then this instance's). */
  const claim = (watcher: string, slotMs: number, retainMs: number): boolean => {
    const now = clock.now();
    sweep(now);
    const key = keys.slot(watcher, slotMs);
    const exp = claims.get(key);
    if (exp !== undefined && exp > now) return false;
    claims.set(key, now + retainMs);
    return true;
  };

  const lease = (watcher: string, scope: LeaseScope): LeaseResult => {
    const key = keys.lease(watcher, scope);
    if (leases.has(key)) return { outcome: 'held' };
    const held = new LocalLease(watcher, key, () => leases.delete(key));
    leases.set(key, held);
    if (scope.kind !== 'waiting')
      holders.set(watcher, { instance: options.instanceId, sinceMs: clock.now(), key });
    return { outcome: 'acquired', lease: held };
  };

  return {
    backend: 'local',
    leaseMs: options.leaseMs ?? 30_000,
    available: true,
    claimAndLease(requests): Promise<ClaimLeaseResult[]> {
      return Promise.resolve(
        requests.map((r) =>
          claim(r.watcher, r.slotMs, r.retainMs)
            ? { claim: 'claimed', lease: lease(r.watcher, r.scope), token: options.instanceId }
            : { claim: 'taken' },
        ),
      );
    },
    unclaimSlot(watcher, slotMs) {
      // One process: a claim here is always this instance's own.
      claims.delete(keys.slot(watcher, slotMs));
      return Promise.resolve();
    },
    isClaimed(watcher, slotMs) {
      const exp = claims.get(keys.slot(watcher, slotMs));
      return Promise.resolve(exp !== undefined && exp > clock.now());
    },
    acquireLease(watcher, scope) {
      return Promise.resolve(lease(watcher, scope));
    },
    isRunning(watcher) {
      return Promise.resolve(leases.has(keys.lease(watcher, { kind: 'running' })));
    },
    chainEnd(watcher) {
      return Promise.resolve(chains.get(watcher));
    },
    advanceChain(watcher, expectedMs, endMs) {
      if (chains.get(watcher) !== expectedMs) return Promise.resolve(false);
      chains.set(watcher, endMs);
      return Promise.resolve(true);
    },
    recordRun(record) {
      records.set(record.watcher, record);
      return Promise.resolve();
    },
    async finishRuns(runs) {
      for (const r of runs) records.set(r.record.watcher, r.record);
      await Promise.all(runs.map((r) => r.lease.release()));
    },
    lastRun(watcher) {
      return Promise.resolve(records.get(watcher));
    },
    holder(watcher) {
      const h = holders.get(watcher);
      return Promise.resolve(
        h !== undefined && leases.has(h.key) ? { instance: h.instance, sinceMs: h.sinceMs } : undefined,
      );
    },
    async close() {
      await Promise.all([...leases.values()].map((l) => l.release()));
    },
  };
}

/** A lease in one process is never lost: only its holder can release it. */
class LocalLease implements Lease {
  readonly #controller = new AbortController();
  #released = false;

  constructor(
    readonly watcher: string,
    readonly key: string,
    private readonly onRelease: () => void,
  ) {}

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get lost(): boolean {
    return false;
  }

  release(): Promise<void> {
    if (!this.#released) {
      this.#released = true;
      this.onRelease();
    }
    return Promise.resolve();
  }
}
