/**
 * {@link RowClaims} inside one process (`lock.backend: local`): maps with expiry times, the same
 * semantics as the Redis scripts for a single instance.
 */
import type { Clock } from '../../pkg/clock/clock.js';
import { systemClock } from '../../pkg/clock/clock.js';
import type { RowClaims, RowId } from './row-claims.js';

interface Retry {
  attempts: number;
  nextMs: number;
  untilMs: number;
}

class LocalRowClaims implements RowClaims {
  readonly #claims = new Map<RowId, number>();
  readonly #retries = new Map<RowId, Retry>();
  readonly #stats = new Map<string, string>();

  constructor(private readonly clock: Clock) {}

  #held(id: RowId, now: number): boolean {
    const until = this.#claims.get(id);
    return until !== undefined && until > now;
  }

  #retry(id: RowId, now: number): Retry | undefined {
    const r = this.#retries.get(id);
    if (r !== undefined && r.untilMs <= now) {
      this.#retries.delete(id);
      return undefined;
    }
    return r;
  }

  claim(ids: readonly RowId[], leaseMs: number): Promise<Map<RowId, number>> {
    const now = this.clock.now();
    const got = new Map<RowId, number>();
    for (const id of ids) {
      const r = this.#retry(id, now);
      if (this.#held(id, now) || (r !== undefined && r.nextMs > now)) continue;
      this.#claims.set(id, now + leaseMs);
      got.set(id, (r?.attempts ?? 0) + 1);
    }
    return Promise.resolve(got);
  }

  extend(ids: readonly RowId[], leaseMs: number): Promise<Set<RowId>> {
    const now = this.clock.now();
    for (const id of ids) this.#claims.set(id, now + leaseMs);
    return Promise.resolve(new Set(ids));
  }

  release(ids: readonly RowId[]): Promise<void> {
    for (const id of ids) this.#claims.delete(id);
    return Promise.resolve();
  }

  settle(ids: readonly RowId[], holdMs: number): Promise<Set<RowId>> {
    const until = this.clock.now() + holdMs;
    for (const id of ids) {
      this.#claims.set(id, until);
      this.#retries.delete(id);
    }
    return Promise.resolve(new Set(ids));
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  retryLater(id: RowId, attempt: number, delayMs: number, keepMs: number): Promise<void> {
    const now = this.clock.now();
    this.#retries.set(id, { attempts: attempt, nextMs: now + delayMs, untilMs: now + keepMs });
    this.#claims.delete(id);
    return Promise.resolve();
  }

  due(most: number, leaseMs: number): Promise<Map<RowId, number>> {
    // In one process no holder dies alone: only retries come due.
    const now = this.clock.now();
    const got = new Map<RowId, number>();
    for (const [id, r] of this.#retries) {
      if (got.size >= most) break;
      if (r.untilMs <= now || r.nextMs > now || this.#held(id, now)) continue;
      this.#claims.set(id, now + leaseMs);
      got.set(id, r.attempts + 1);
    }
    return Promise.resolve(got);
  }

  claimable(ids: readonly RowId[]): Promise<Set<RowId>> {
    const now = this.clock.now();
    return Promise.resolve(
      new Set(ids.filter((id) => !this.#held(id, now) && (this.#retry(id, now)?.nextMs ?? 0) <= now)),
    );
  }

  record(counts: Readonly<Record<string, number>>, sample?: Readonly<Record<string, string>>): Promise<void> {
    for (const [k, n] of Object.entries(counts))
      this.#stats.set(k, String(Number(this.#stats.get(k) ?? 0) + n));
    for (const [k, v] of Object.entries(sample ?? {})) this.#stats.set(k, v);
    return Promise.resolve();
  }

  sampleTurn(): Promise<boolean> {
    return Promise.resolve(true);
  }

  stats(): Promise<Record<string, string>> {
    return Promise.resolve(Object.fromEntries(this.#stats));
  }
}

/** Row claims of one status watcher inside this process (a single instance). */
export function createLocalRowClaims(clock: Clock = systemClock): RowClaims {
  return new LocalRowClaims(clock);
}
