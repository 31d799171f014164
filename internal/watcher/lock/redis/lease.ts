/**
 * A lease held on the lock servers under a token only its holder knows. It runs no timer of its
 * own: its keeper extends every held lease from one shared timer and calls {@link RedisLease.lose}
 * when the key is someone else's or the lease ran out unextended.
 */
import { LeaseLostError } from '../../errors.js';
import type { Lease } from '../coordinator.js';
import { LazyAbort } from '../../../pkg/abort/lazy-abort.js';

/** What ends a lease: its keeper (see lease-keeper.ts). */
export interface LeaseEnder {
  end(lease: RedisLease): Promise<void>;
}

/** A lease that its keeper extends until it is released or lost. */
export class RedisLease implements Lease {
  readonly #abort = new LazyAbort();
  #state: 'held' | 'lost' | 'released' = 'held';
  #stopped = false;
  /** What {@link release} returns once the lease has ended (never rejects); none before. */
  ended: Promise<void> | undefined;
  /** Local estimate of when the lease ends unless extended (ms since the epoch). */
  validUntilMs: number;
  /** When the last successful extension (or the acquisition) was sent. */
  renewedAtMs: number;
  /** An extension is in flight. */
  extending = false;

  constructor(
    readonly watcher: string,
    readonly key: string,
    /** The value the key holds while it is ours. */
    readonly token: string,
    sentAtMs: number,
    private readonly leaseMs: number,
    private readonly keeper: LeaseEnder,
  ) {
    this.renewedAtMs = sentAtMs;
    this.validUntilMs = sentAtMs + leaseMs;
  }

  /** Aborts with a {@link LeaseLostError} when the lease is lost. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  onLost(listener: (reason: unknown) => void): () => void {
    return this.#abort.onAbort(listener);
  }

  get lost(): boolean {
    return this.#state === 'lost';
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  /** An extension sent at `sentAtMs` succeeded. */
  renewed(sentAtMs: number): void {
    this.renewedAtMs = sentAtMs;
    this.validUntilMs = sentAtMs + this.leaseMs;
  }

  /** Marks the lease lost and aborts its signal (once). */
  lose(reason: LeaseLostError): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#abort.abort(reason);
  }

  /** Stops extending and deletes the key where it is still ours. Never rejects; idempotent. */
  release(): Promise<void> {
    return this.keeper.end(this);
  }

  /** Whether `keeper` keeps this lease (it can then end it together with others). */
  keptBy(keeper: LeaseEnder): boolean {
    return this.keeper === keeper;
  }

  /**
   * The local half of ending, for the keeper: true the first time, when the key is still to be
   * deleted. A holder whose event loop stalled past the lease gets here before the keeper could
   * notice that the lease ran out while it worked: that is a loss (the holder's signal fires), not
   * a release. A lost lease is deleted too, where it is still ours (a server that missed the
   * extension).
   */
  stop(): boolean {
    if (this.#stopped) return false;
    this.#stopped = true;
    if (this.#state === 'held' && Date.now() >= this.validUntilMs) this.lose(leaseLost(this.key, 'expired'));
    if (this.#state === 'held') this.#state = 'released';
    return true;
  }
}

/** The error a lost lease's signal carries. */
export function leaseLost(key: string, why: 'held' | 'expired' | 'late', cause?: unknown): LeaseLostError {
  const message = {
    held: `lease ${key} is held by another instance`,
    expired: `lease ${key} expired: the backend did not answer`,
    late: `lease ${key}: acquired too late to be valid`,
  }[why];
  return new LeaseLostError(key, message, cause === undefined ? undefined : { cause });
}
