/**
 * A lease held on the coordination servers under a token only its holder knows. The holder does not
 * run a timer per lease: the coordinator extends all held leases from one shared timer (see
 * `LeaseKeeper` in redis-coordinator.ts) and calls {@link RedisLease.lose} when the key is someone
 * else's or the lease ran out unextended.
 */
import type { Lease } from './coordinator.js';
import { LeaseLostError } from './coordinator.js';

/** A lease that its coordinator keeps extending until it is released or lost. */
export class RedisLease implements Lease {
  readonly #controller = new AbortController();
  #state: 'held' | 'lost' | 'released' = 'held';
  #releasing: Promise<void> | undefined;
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
    leaseMs: number,
    private readonly onRelease: (lease: RedisLease) => Promise<void>,
  ) {
    this.renewedAtMs = sentAtMs;
    this.validUntilMs = sentAtMs + leaseMs;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get lost(): boolean {
    return this.#state === 'lost';
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  /** Marks the lease lost and aborts its signal (once). */
  lose(reason: LeaseLostError): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#controller.abort(reason);
  }

  /** Stops extending and deletes the key where it is still ours. Never rejects; idempotent. */
  release(): Promise<void> {
    if (this.#releasing === undefined) {
      const wasHeld = this.#state === 'held';
      if (wasHeld) this.#state = 'released';
      // A lost lease is deleted too where it is still ours (a server that missed the extension).
      this.#releasing = this.onRelease(this).catch(() => undefined);
    }
    return this.#releasing;
  }
}

/** The error a lost lease's signal carries. */
export function leaseLost(key: string, why: 'held' | 'expired', cause?: unknown): LeaseLostError {
  return new LeaseLostError(
    key,
    why === 'held'
      ? `lease ${key} is held by another instance`
      : `lease ${key} expired: the backend did not answer`,
    cause === undefined ? undefined : { cause },
  );
}
