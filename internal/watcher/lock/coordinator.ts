/**
 * Cluster coordination as the scheduler needs it: claim a slot once cluster-wide, hold a lease while
 * a run runs (the "running" marker that overlap policies read), keep the fixed-delay chain and the
 * last-run record. Two implementations: Redis (`lock.backend: redis`) and in-process (`local`).
 *
 * Two kinds of "no" are kept apart everywhere: held/claimed by someone else (normal) and the backend
 * failed (an error; the slot is skipped, never run without a claim).
 */

/** What became of a slot claim (see {@link ClaimLeaseResult}). */
export type ClaimOutcome =
  /** This instance owns the slot: run it. */
  | 'claimed'
  /** Another instance (or an earlier run of this one) claimed it: normal, skip quietly. */
  | 'taken'
  /** The backend did not answer: skip the slot (safety over liveness). */
  | 'unavailable';

/** A lease on a watcher, extended by its holder until released. */
export interface Lease {
  readonly watcher: string;
  /** The backend key the lease lives under. */
  readonly key: string;
  /**
   * Aborts when the lease is lost (someone else holds the key, or it expired unextended), with a
   * `LeaseLostError` (errors.ts) as its reason.
   */
  readonly signal: AbortSignal;
  /** True once the lease was lost. */
  readonly lost: boolean;
  /**
   * Calls `listener` once when the lease is lost (at once if it already is), with the reason the
   * signal carries; no signal is made for it. @returns a function that removes it.
   */
  onLost(listener: (reason: unknown) => void): () => void;
  /** Stops extending and deletes the key if it is still ours. Never rejects; idempotent. */
  release(): Promise<void>;
}

/** Outcome of {@link Coordinator.acquireLease}. */
export type LeaseResult =
  | { readonly outcome: 'acquired'; readonly lease: Lease }
  | { readonly outcome: 'held' }
  | { readonly outcome: 'unavailable'; readonly error: unknown };

/**
 * Outcome of {@link Coordinator.claimAndLease}: the claim, and when the slot is ours, the lease.
 * A claimed slot whose lease is `held` is the overlap case (the previous run still runs).
 */
export type ClaimLeaseResult =
  | { readonly claim: Exclude<ClaimOutcome, 'claimed'> }
  | {
      readonly claim: 'claimed';
      readonly lease: LeaseResult;
      /** The claim's value, for {@link Coordinator.unclaimSlot}. */
      readonly token: string;
    };

/** What a lease is for. */
export type LeaseScope =
  /** The watcher-wide "running" marker: one holder in the cluster (overlap skip / delay). */
  | { readonly kind: 'running' }
  /** One slot's run, so several runs of a watcher may overlap (overlap allow). */
  | { readonly kind: 'slot'; readonly slotMs: number }
  /** The one slot allowed to wait for the running one (overlap delay). */
  | { readonly kind: 'waiting' };

/** The outcome of a run as `status` shows it. */
export interface LastRunRecord {
  readonly watcher: string;
  /** The slot the run served (ms since the epoch). */
  readonly slotMs: number;
  readonly instance: string;
  readonly result: 'ok' | 'failed' | 'aborted' | 'timeout';
  readonly startedMs: number;
  readonly durationMs: number;
  readonly counts: Readonly<Record<string, number | boolean | string>>;
  readonly error?: string;
  /** True for `iam-watcher run <watcher>` and `trigger` (not a scheduled slot). */
  readonly manual?: boolean;
  /** The attempt within its slot, when the watcher retries (`retry.attempts` above 1). */
  readonly attempt?: number;
}

/** The instance holding a watcher's run lease, as `status` shows it. */
export interface LeaseHolder {
  readonly instance: string;
  /** When the lease was taken (ms since the epoch). */
  readonly sinceMs: number;
}

/** One slot to claim, as {@link Coordinator.claimAndLease} takes it. */
export interface ClaimRequest {
  readonly watcher: string;
  readonly slotMs: number;
  readonly retainMs: number;
  readonly scope: LeaseScope;
}

/** A run that ended: its lease to release and its last-run record to store. */
export interface FinishedRun {
  readonly lease: Lease;
  readonly record: LastRunRecord;
}

/** The coordination backend. Methods that return outcomes never reject; the others may. */
export interface Coordinator {
  readonly backend: 'redis' | 'local';
  /** The lease length (`lock.lease`). */
  readonly leaseMs: number;
  /** False while the backend is known to be unreachable (for readiness). */
  readonly available: boolean;
  /**
   * Claims each slot once cluster-wide and, where the claim succeeds, takes its lease in the same
   * step; results in the order asked. A single claim is a batch of one. Requests made in the same
   * event-loop turn travel together (on Redis: one script call per server for up to a hundred).
   * The claim key expires after `retainMs`: keep that longer than any clock skew or restart could
   * make an instance reach the slot again. Never rejects.
   */
  claimAndLease(requests: readonly ClaimRequest[]): Promise<ClaimLeaseResult[]>;
  /**
   * Gives back a slot claimed with {@link Coordinator.claimAndLease} that will not run here (the
   * instance stops before the slot time), so that another instance can still claim it. Only a
   * claim that still holds `token` is deleted. Never rejects.
   */
  unclaimSlot(watcher: string, slotMs: number, token: string): Promise<void>;
  /** Whether a slot was claimed (by anyone) and the claim has not expired. @throws when unreachable */
  isClaimed(watcher: string, slotMs: number): Promise<boolean>;
  /** Takes a lease of the configured length (no slot claim) and keeps extending it until released. */
  acquireLease(watcher: string, scope: LeaseScope): Promise<LeaseResult>;
  /** Whether any instance holds the watcher's "running" lease. @throws when unreachable */
  isRunning(watcher: string): Promise<boolean>;
  /** The end time of the watcher's last fixed-delay run, cluster-wide. @throws when unreachable */
  chainEnd(watcher: string): Promise<number | undefined>;
  /**
   * Sets the chain's end time if it is still `expectedMs` (undefined = no chain yet).
   * @returns false when someone else moved the chain first. @throws when unreachable
   */
  advanceChain(watcher: string, expectedMs: number | undefined, endMs: number): Promise<boolean>;
  /** Stores the last-run record. @throws when unreachable */
  recordRun(record: LastRunRecord): Promise<void>;
  /**
   * Adds a slot skipped after its claim (overlap) to the watcher's run history, without touching
   * its last-run record; a backend without a history (the in-process one) ignores it. Never rejects.
   */
  recordSkipped(watcher: string, slotMs: number, instance: string, reason: string): Promise<void>;
  /**
   * Releases the leases of ended runs and stores their last-run records; runs that end in the same
   * event-loop turn travel together. Never rejects: a record not stored is the backend's to report.
   */
  finishRuns(runs: readonly FinishedRun[]): Promise<void>;
  /** Reads the last-run record. @throws when unreachable */
  lastRun(watcher: string): Promise<LastRunRecord | undefined>;
  /**
   * Reads the record of the watcher's last ok run (stored with the run's record, no extra round
   * trip when runs end). @throws when unreachable
   */
  lastSuccess(watcher: string): Promise<LastRunRecord | undefined>;
  /**
   * Who runs the watcher now: the instance holding a live run lease (`running` or `slot` scope), or
   * undefined when nobody does (for `status`). @throws when unreachable
   */
  holder(watcher: string): Promise<LeaseHolder | undefined>;
  /** Releases every lease still held by this coordinator. Never rejects; idempotent. */
  close(): Promise<void>;
}
