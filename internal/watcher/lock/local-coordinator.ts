/**
 * `lock.backend: local`: the coordinator's semantics inside one process (one instance, no cluster).
 * Claims, leases, the chain and last-run records live in maps; claims expire like Redis keys.
 */
import type { Clock } from '../../pkg/clock/clock.js';
import { systemClock } from '../../pkg/clock/clock.js';
import type {
  ClaimLeaseResult,
  ClaimRequest,
  Coordinator,
  FinishedRun,
  LastRunRecord,
  Lease,
  LeaseHolder,
  LeaseResult,
  LeaseScope,
} from './coordinator.js';
import { keyNames, type KeyNames } from './keys.js';

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
 * The in-process coordinator. It coordinates nothing across instances: the caller should warn at
 * start-up (the daemon logs `lock.local`).
 */
export class LocalCoordinator implements Coordinator {
  readonly backend = 'local';
  readonly available = true;
  readonly leaseMs: number;
  readonly #clock: Clock;
  readonly #keys: KeyNames;
  readonly #claims = new Map<string, number>();
  readonly #leases = new Map<string, LocalLease>();
  readonly #chains = new Map<string, number>();
  readonly #records = new Map<string, LastRunRecord>();
  readonly #successes = new Map<string, LastRunRecord>();
  readonly #holders = new Map<string, { instance: string; sinceMs: number; key: string }>();

  constructor(private readonly options: LocalCoordinatorOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
    this.#keys = keyNames(options.keyPrefix ?? 'iam-watcher:');
  }

  claimAndLease(requests: readonly ClaimRequest[]): Promise<ClaimLeaseResult[]> {
    return Promise.resolve(
      requests.map((r) =>
        this.#claim(r.watcher, r.slotMs, r.retainMs)
          ? { claim: 'claimed', lease: this.#lease(r.watcher, r.scope), token: this.options.instanceId }
          : { claim: 'taken' },
      ),
    );
  }

  unclaimSlot(watcher: string, slotMs: number): Promise<void> {
    // One process: a claim here is always this instance's own.
    this.#claims.delete(this.#keys.slot(watcher, slotMs));
    return Promise.resolve();
  }

  isClaimed(watcher: string, slotMs: number): Promise<boolean> {
    const exp = this.#claims.get(this.#keys.slot(watcher, slotMs));
    return Promise.resolve(exp !== undefined && exp > this.#clock.now());
  }

  acquireLease(watcher: string, scope: LeaseScope): Promise<LeaseResult> {
    return Promise.resolve(this.#lease(watcher, scope));
  }

  isRunning(watcher: string): Promise<boolean> {
    return Promise.resolve(this.#leases.has(this.#keys.lease(watcher, { kind: 'running' })));
  }

  chainEnd(watcher: string): Promise<number | undefined> {
    return Promise.resolve(this.#chains.get(watcher));
  }

  advanceChain(watcher: string, expectedMs: number | undefined, endMs: number): Promise<boolean> {
    if (this.#chains.get(watcher) !== expectedMs) return Promise.resolve(false);
    this.#chains.set(watcher, endMs);
    return Promise.resolve(true);
  }

  recordRun(record: LastRunRecord): Promise<void> {
    this.#store(record);
    return Promise.resolve();
  }

  /** No run history in one process (`history` needs the Redis backend): nothing to record. */
  recordSkipped(): Promise<void> {
    return Promise.resolve();
  }

  async finishRuns(runs: readonly FinishedRun[]): Promise<void> {
    for (const r of runs) this.#store(r.record);
    await Promise.all(runs.map((r) => r.lease.release()));
  }

  lastRun(watcher: string): Promise<LastRunRecord | undefined> {
    return Promise.resolve(this.#records.get(watcher));
  }

  lastSuccess(watcher: string): Promise<LastRunRecord | undefined> {
    return Promise.resolve(this.#successes.get(watcher));
  }

  #store(record: LastRunRecord): void {
    this.#records.set(record.watcher, record);
    if (record.result === 'ok') this.#successes.set(record.watcher, record);
  }

  holder(watcher: string): Promise<LeaseHolder | undefined> {
    const h = this.#holders.get(watcher);
    const live = h !== undefined && this.#leases.has(h.key);
    return Promise.resolve(live ? { instance: h.instance, sinceMs: h.sinceMs } : undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#leases.values()].map((l) => l.release()));
  }

  /** True when the slot was free (its claim is then this instance's). */
  #claim(watcher: string, slotMs: number, retainMs: number): boolean {
    const now = this.#clock.now();
    if (this.#claims.size >= 10_000)
      for (const [k, exp] of this.#claims) if (exp <= now) this.#claims.delete(k);
    const key = this.#keys.slot(watcher, slotMs);
    const exp = this.#claims.get(key);
    if (exp !== undefined && exp > now) return false;
    this.#claims.set(key, now + retainMs);
    return true;
  }

  #lease(watcher: string, scope: LeaseScope): LeaseResult {
    const key = this.#keys.lease(watcher, scope);
    if (this.#leases.has(key)) return { outcome: 'held' };
    const lease = new LocalLease(watcher, key, () => this.#leases.delete(key));
    this.#leases.set(key, lease);
    if (scope.kind !== 'waiting')
      this.#holders.set(watcher, { instance: this.options.instanceId, sinceMs: this.#clock.now(), key });
    return { outcome: 'acquired', lease };
  }
}

/** Creates the in-process coordinator (see {@link LocalCoordinator}). */
export function createLocalCoordinator(options: LocalCoordinatorOptions): Coordinator {
  return new LocalCoordinator(options);
}

/** A lease in one process is never lost: only its holder can release it. */
class LocalLease implements Lease {
  #signal: AbortSignal | undefined;
  #released = false;

  constructor(
    readonly watcher: string,
    readonly key: string,
    private readonly onRelease: () => void,
  ) {}

  get signal(): AbortSignal {
    return (this.#signal ??= new AbortController().signal);
  }

  get lost(): boolean {
    return false;
  }

  onLost(): () => void {
    return () => undefined;
  }

  release(): Promise<void> {
    if (!this.#released) {
      this.#released = true;
      this.onRelease();
    }
    return Promise.resolve();
  }
}
