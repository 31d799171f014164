/**
 * Slot claims and the leases taken with them, over every lock server: the one path by which this
 * coordinator claims a slot (a single claim is a batch of one) or takes a lease alone, whatever the
 * number of servers (a single server is a quorum of one). Each attempt uses a fresh token for the
 * claim and its lease, and is one CLAIM item per server; the items of one turn share a call.
 */
import { sleep } from '../../../pkg/clock/clock.js';
import type { ClaimLeaseResult, ClaimRequest, LeaseResult, LeaseScope } from '../coordinator.js';
import type { KeyNames } from '../keys.js';
import type { BackendHealth } from './backend-health.js';
import { leaseLost } from './lease.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { judgeClaim, poll, type ClaimVerdict } from './quorum.js';
import type { Releaser } from './releaser.js';
import type { LockServer } from './servers.js';
import type { Tokens } from './tokens.js';

/** What {@link Claims} works with. */
export interface ClaimsDeps {
  readonly servers: readonly LockServer[];
  readonly keys: KeyNames;
  readonly tokens: Tokens;
  readonly keeper: LeaseKeeper;
  readonly releaser: Releaser;
  readonly health: BackendHealth;
  readonly leaseMs: number;
  readonly instanceId: string;
  /** Further rounds after a split vote (none with one server: its answer decides). */
  readonly splitRetries: number;
}

/** One attempt's outcome: the verdict, and the token and send time it was made with. */
interface Attempt {
  readonly verdict: ClaimVerdict;
  readonly token: string;
  readonly sentAtMs: number;
}

/** Claims and leases of one coordinator. */
export class Claims {
  constructor(private readonly d: ClaimsDeps) {}

  /** See {@link Coordinator.claimAndLease}. Never rejects. */
  claimAndLease(requests: readonly ClaimRequest[]): Promise<ClaimLeaseResult[]> {
    return Promise.all(requests.map((r) => this.#claim(r)));
  }

  /** See {@link Coordinator.acquireLease}. Never rejects. */
  async acquireLease(watcher: string, scope: LeaseScope): Promise<LeaseResult> {
    const key = this.d.keys.lease(watcher, scope);
    const { verdict: v, token, sentAtMs } = await this.#attempt(watcher, scope, key, undefined);
    if (v.kind === 'won') {
      this.d.health.ok();
      return this.#take(watcher, key, token, sentAtMs);
    }
    if (v.partial) await this.#drop(token, key);
    if (v.kind === 'unavailable') {
      this.d.health.failed(v.error, 'lease');
      return { outcome: 'unavailable', error: v.error };
    }
    this.d.health.ok();
    return { outcome: 'held' };
  }

  /** See {@link Coordinator.unclaimSlot}. Never rejects. */
  unclaimSlot(watcher: string, slotMs: number, token: string): Promise<void> {
    return this.#drop(token, this.d.keys.slot(watcher, slotMs));
  }

  async #claim(r: ClaimRequest): Promise<ClaimLeaseResult> {
    const slotKey = this.d.keys.slot(r.watcher, r.slotMs);
    const leaseKey = this.d.keys.lease(r.watcher, r.scope);
    for (let round = 0; ; round++) {
      const claim = { key: slotKey, retainMs: r.retainMs };
      const { verdict: v, token, sentAtMs } = await this.#attempt(r.watcher, r.scope, leaseKey, claim);
      if (v.kind === 'won') {
        this.d.health.ok();
        if (v.leased)
          return { claim: 'claimed', lease: await this.#take(r.watcher, leaseKey, token, sentAtMs), token };
        // Claimed, but the lease is someone else's (overlap): give back the servers we did get.
        if (v.partial) await this.#drop(token, leaseKey);
        return { claim: 'claimed', lease: { outcome: 'held' }, token };
      }
      // Lost or split: give back what we hold, so that a retry (ours or another instance's) can
      // reach a majority. A majority that exists elsewhere stays untouched.
      if (v.partial) await this.#drop(token, slotKey, leaseKey);
      if (v.kind === 'unavailable') {
        this.d.health.failed(v.error, 'claim');
        return { claim: 'unavailable' };
      }
      this.d.health.ok();
      if (v.kind === 'taken' || round >= this.d.splitRetries) return { claim: 'taken' };
      await sleep(5 + Math.random() * 30);
    }
  }

  /** One CLAIM item on every server: the claim (when given) and the lease under one new token. */
  async #attempt(
    watcher: string,
    scope: LeaseScope,
    leaseKey: string,
    claim: { key: string; retainMs: number } | undefined,
  ): Promise<Attempt> {
    const token = this.d.tokens.next();
    const sentAtMs = Date.now();
    // Overlap allow: per-slot leases, with a holder record naming the latest (for `status`).
    const holder =
      scope.kind === 'slot'
        ? JSON.stringify({ instance: this.d.instanceId, sinceMs: sentAtMs, key: leaseKey })
        : '';
    const keys = [claim?.key ?? leaseKey, leaseKey, this.d.keys.holder(watcher)];
    const args = [
      token,
      claim === undefined ? '0' : String(Math.max(1, Math.ceil(claim.retainMs))),
      String(this.d.leaseMs),
      holder,
    ];
    const votes = await poll(this.d.servers, (s) => s.claim.push(keys, args));
    return { verdict: judgeClaim(votes, claim !== undefined), token, sentAtMs };
  }

  /**
   * A lease a quorum took: kept from now on, unless it took so long to win (half the lease) that
   * the keys' TTLs, which run from the moment each server got the request, leave too little.
   */
  async #take(watcher: string, key: string, token: string, sentAtMs: number): Promise<LeaseResult> {
    if (Date.now() - sentAtMs >= this.d.leaseMs / 2) {
      await this.#drop(token, key);
      return { outcome: 'unavailable', error: leaseLost(key, 'late') };
    }
    return { outcome: 'acquired', lease: this.d.keeper.hold(watcher, key, token, sentAtMs) };
  }

  /** Deletes the keys where they still hold `token`. Never rejects. */
  async #drop(token: string, ...keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => this.d.releaser.release(k, token)));
  }
}
