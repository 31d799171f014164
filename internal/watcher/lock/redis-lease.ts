/**
 * A lease held on the coordination servers under a token only its holder knows. The holder does not
 * run a timer per lease: the coordinator extends all held leases from one shared timer (see
 * `LeaseKeeper` in redis-coordinator.ts) and calls {@link RedisLease.lose} when the key is someone
 * else's or the lease ran out unextended.
 */
import type { Lease } from './coordinator.js';
import { LeaseLostError } from '../errors.js';

/** A lease that its coordinator keeps extending until it is released or lost. */
export class RedisLease implements Lease {
  // Created when someone asks for `signal`; most runs only register an `onLost` callback.
  #controller: AbortController | undefined;
  #reason: LeaseLostError | undefined;
  #listeners: Array<() => void> | undefined;
  #state: 'held' | 'lost' | 'released' = 'held';
  #releasing: Promise<void> | undefined;
  #releaseStarted = false;
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
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  onLost(listener: () => void): () => void {
    (this.#listeners ??= []).push(listener);
    return () => {
      const i = this.#listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.#listeners?.splice(i, 1);
    };
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
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const l of listeners) l();
  }

  /** Stops extending and deletes the key where it is still ours. Never rejects; idempotent. */
  release(): Promise<void> {
    if (this.startRelease()) this.releasedBy(this.onRelease(this).catch(() => undefined));
    return this.#releasing ?? Promise.resolve();
  }

  /**
   * The local half of {@link release}, for a caller that deletes the key itself (several leases in
   * one command): true the first time, and the caller must then pass the promise of that deletion
   * to {@link releasedBy} in the same turn.
   */
  startRelease(): boolean {
    if (this.#releasing !== undefined || this.#releaseStarted) return false;
    this.#releaseStarted = true;
    // A holder whose event loop stalled past the lease gets here before the keeper could notice:
    // the lease ran out while it worked. That is a loss (the holder's signal fires), not a release.
    if (this.#state === 'held' && Date.now() >= this.validUntilMs) this.lose(leaseLost(this.key, 'expired'));
    if (this.#state === 'held') this.#state = 'released';
    // A lost lease is deleted too where it is still ours (a server that missed the extension).
    return true;
  }

  /** What {@link release} returns from now on (never rejects). */
  releasedBy(done: Promise<void>): void {
    this.#releasing = done;
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
