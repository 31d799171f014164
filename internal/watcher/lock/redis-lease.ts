/**
 * A lease held through redlock and extended by its holder. redlock's own auto-extension (`using`)
 * spins on failure; here the holder extends every third of the lease, retries quickly on a transport
 * error, and declares the lease lost (aborting its signal) as soon as the key is someone else's or
 * the lease ran out unextended.
 */
import { ExecutionError, ResourceLockedError } from '@sesamecare-oss/redlock';
import type { Lock } from '@sesamecare-oss/redlock';
import type { Lease } from './coordinator.js';
import { LeaseLostError } from './coordinator.js';

/** Callbacks of a {@link RedisLease}. */
export interface RedisLeaseHooks {
  onLost(lease: RedisLease, reason: LeaseLostError): void;
  onReleased(lease: RedisLease): void;
  onBackendError(err: unknown, operation: string): void;
  onBackendOk(): void;
}

/** A lease that extends itself until released or lost. */
export class RedisLease implements Lease {
  readonly #controller = new AbortController();
  #lock: Lock;
  #timer: NodeJS.Timeout | undefined;
  #state: 'held' | 'lost' | 'released' = 'held';
  #releasing: Promise<void> | undefined;

  constructor(
    readonly watcher: string,
    readonly key: string,
    lock: Lock,
    private readonly leaseMs: number,
    private readonly hooks: RedisLeaseHooks,
  ) {
    this.#lock = lock;
    this.#schedule(Math.max(1, Math.floor(leaseMs / 3)));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get lost(): boolean {
    return this.#state === 'lost';
  }

  /** Local estimate of when the lease ends unless extended (ms since the epoch). */
  get validUntilMs(): number {
    return this.#lock.expiration;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#extend();
    }, delayMs);
    this.#timer.unref();
  }

  async #extend(): Promise<void> {
    if (this.#state !== 'held') return;
    const validUntil = this.#lock.expiration;
    try {
      const next = await this.#lock.extend(this.leaseMs);
      if (this.#state !== 'held') {
        // Released while the extension was in flight: give the key back.
        await next.release().catch(() => undefined);
        return;
      }
      this.#lock = next;
      this.hooks.onBackendOk();
      this.#schedule(Math.max(1, Math.floor(this.leaseMs / 3)));
    } catch (err) {
      if (this.#state !== 'held') return;
      const verdict = await classify(err);
      if (verdict === 'held') {
        this.#lose(
          new LeaseLostError(this.key, `lease ${this.key} is held by another instance`, { cause: err }),
        );
        return;
      }
      this.hooks.onBackendError(err, 'extend');
      const left = validUntil - Date.now();
      if (left <= 0) {
        this.#lose(
          new LeaseLostError(this.key, `lease ${this.key} expired: the backend did not answer`, {
            cause: err,
          }),
        );
        return;
      }
      this.#schedule(Math.max(1, Math.min(Math.floor(this.leaseMs / 10), left)));
    }
  }

  #lose(reason: LeaseLostError): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#controller.abort(reason);
    this.hooks.onLost(this, reason);
  }

  release(): Promise<void> {
    this.#releasing ??= this.#release();
    return this.#releasing;
  }

  async #release(): Promise<void> {
    const wasHeld = this.#state === 'held';
    if (wasHeld) this.#state = 'released';
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.hooks.onReleased(this);
    if (!wasHeld) return;
    try {
      await this.#lock.release();
    } catch {
      // The key expires by itself within the lease; nothing else to do.
    }
  }
}

/**
 * Tells "someone else holds it" from "the backend failed" for a failed redlock operation: held when
 * a quorum of servers answered that the key is locked.
 */
export async function classify(err: unknown): Promise<'held' | 'failed'> {
  if (err instanceof ResourceLockedError) return 'held';
  if (!(err instanceof ExecutionError)) return 'failed';
  const last = err.attempts[err.attempts.length - 1];
  if (last === undefined) return 'failed';
  const stats = await last;
  let locked = 0;
  for (const e of stats.votesAgainst.values()) if (e instanceof ResourceLockedError) locked += 1;
  return locked >= stats.quorumSize ? 'held' : 'failed';
}
