/**
 * Keeps the held leases: one shared timer ticks every tenth of the lease while any lease is held; a
 * lease is extended (by majority) once a third of it has passed since its last renewal, and a failed
 * extension is retried at the next tick until the lease's validity runs out. Every lease ends here
 * too (release, the end of a run, shutdown).
 */
import type { BackendHealth } from './backend-health.js';
import { RedisLease, leaseLost, type LeaseEnder } from './lease.js';
import { judgeExtend, poll, firstError } from './quorum.js';
import type { Release, Releaser, StoredRecord } from './releaser.js';
import type { LockServer } from './servers.js';

const ignore = (): void => undefined;

/** The held leases of one coordinator. */
export class LeaseKeeper implements LeaseEnder {
  readonly #leases = new Set<RedisLease>();
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly servers: readonly LockServer[],
    private readonly leaseMs: number,
    private readonly releaser: Releaser,
    private readonly health: BackendHealth,
  ) {
    this.#tickMs = Math.max(5, Math.floor(leaseMs / 10));
  }

  /** A lease whose token the servers took at `sentAtMs`, kept from now on. */
  hold(watcher: string, key: string, token: string, sentAtMs: number): RedisLease {
    const lease = new RedisLease(watcher, key, token, sentAtMs, this.leaseMs, this);
    this.#leases.add(lease);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#tickMs);
      this.#timer.unref();
    }
    return lease;
  }

  /** Ends one lease (see {@link endAll}). Never rejects. */
  end(lease: RedisLease, record?: StoredRecord): Promise<void> {
    return this.endAll([{ lease, record }]);
  }

  /**
   * Stops keeping the leases and deletes their keys where they still hold their tokens, storing
   * each record in the same step (a lease released before still gets its record stored); all in
   * one release. Never rejects.
   */
  endAll(ends: ReadonlyArray<{ lease: RedisLease; record?: StoredRecord | undefined }>): Promise<void> {
    const releases: Release[] = [];
    const first: RedisLease[] = [];
    for (const { lease, record } of ends) {
      this.#forget(lease);
      if (lease.stop()) {
        first.push(lease);
        releases.push({ key: lease.key, token: lease.token, record });
      } else if (record !== undefined) releases.push({ key: lease.key, token: '', record });
    }
    if (releases.length === 0)
      return (ends.length === 1 ? ends[0]?.lease.ended : undefined) ?? Promise.resolve();
    const done = this.releaser.release(releases).catch(ignore);
    for (const lease of first) lease.ended = done;
    return done;
  }

  /** Releases every lease still held. Never rejects. */
  async close(): Promise<void> {
    await Promise.all([...this.#leases].map((l) => l.release()));
  }

  #forget(lease: RedisLease): void {
    this.#leases.delete(lease);
    if (this.#leases.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const lease of this.#leases) {
      if (!lease.held) this.#forget(lease);
      else if (now >= lease.validUntilMs) this.#lose(lease, 'expired');
      else if (!lease.extending && now - lease.renewedAtMs >= this.leaseMs / 3) void this.#extend(lease);
    }
  }

  async #extend(lease: RedisLease): Promise<void> {
    lease.extending = true;
    const sentAtMs = Date.now();
    const item = { keys: [lease.key], args: [lease.token, String(this.leaseMs)] };
    const votes = await poll(this.servers, async (s) => (await s.extend.push([item]))[0]);
    lease.extending = false;
    if (!lease.held) return;
    const verdict = judgeExtend(votes);
    if (verdict === 'extended') {
      this.health.ok();
      lease.renewed(sentAtMs);
    } else if (verdict === 'lost') {
      this.#lose(lease, 'held');
    } else {
      const err = firstError(votes);
      this.health.failed(err, 'extend');
      if (Date.now() >= lease.validUntilMs) this.#lose(lease, 'expired', err);
    }
  }

  #lose(lease: RedisLease, why: 'held' | 'expired', cause?: unknown): void {
    this.#forget(lease);
    lease.lose(leaseLost(lease.key, why, cause));
  }
}
