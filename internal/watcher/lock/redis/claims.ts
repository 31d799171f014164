/**
 * Slot claims and the leases taken with them, over every lock server: the one path by which this
 * coordinator claims slots (a single claim is a batch of one) or takes a lease alone, whatever the
 * number of servers (a single server is a quorum of one). An attempt gives each slot a fresh token
 * for its claim and its lease and sends one CLAIM item per slot to every server; the items of one
 * turn share a call.
 */
import { sleep } from '../../../pkg/clock/clock.js';
import type { ClaimLeaseResult, ClaimRequest, LeaseResult, LeaseScope } from '../coordinator.js';
import type { KeyNames } from '../keys.js';
import type { BackendHealth } from './backend-health.js';
import type { ScriptItem } from './batcher.js';
import { leaseLost } from './lease.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { judgeClaimAt, poll, type ClaimVerdict, type Vote } from './quorum.js';
import type { Release, Releaser } from './releaser.js';
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

/** One slot (or a lease alone: no `slotKey`) as an attempt asks for it. */
interface Ask {
  readonly watcher: string;
  readonly scope: LeaseScope;
  readonly leaseKey: string;
  readonly slotKey?: string;
  readonly retainMs?: number;
}

/** Claims and leases of one coordinator. */
export class Claims {
  /** The lease length as CLAIM takes it. */
  readonly #leaseMs: string;

  constructor(private readonly d: ClaimsDeps) {
    this.#leaseMs = String(d.leaseMs);
  }

  /** See {@link Coordinator.claimAndLease}. Never rejects. */
  async claimAndLease(requests: readonly ClaimRequest[]): Promise<ClaimLeaseResult[]> {
    const results = new Array<ClaimLeaseResult>(requests.length);
    // The asks of this round, and where each one's result goes (a split vote asks again).
    let open = requests.map((r) => this.#claimAsk(r));
    let places = open.map((_, i) => i);
    for (let round = 0; open.length > 0; round++) {
      const { answers, tokens, sentAtMs } = await this.#attempt(open);
      const split: Ask[] = [];
      const splitPlaces: number[] = [];
      const drops: Release[] = [];
      for (let n = 0; n < open.length; n++) {
        const ask = open[n] as Ask;
        const place = places[n] as number;
        const verdict = judgeClaimAt(answers, n, true);
        const r = this.#result(ask, verdict, tokens[n] as string, sentAtMs, drops);
        if (r !== undefined) results[place] = r;
        else if (round < this.d.splitRetries) {
          split.push(ask);
          splitPlaces.push(place);
        } else results[place] = { claim: 'taken' };
      }
      await this.#drop(drops);
      open = split;
      places = splitPlaces;
      if (open.length > 0) await sleep(5 + Math.random() * 30);
    }
    return results;
  }

  /** See {@link Coordinator.acquireLease}. Never rejects. */
  async acquireLease(watcher: string, scope: LeaseScope): Promise<LeaseResult> {
    const ask: Ask = { watcher, scope, leaseKey: this.d.keys.lease(watcher, scope) };
    const { answers, tokens, sentAtMs } = await this.#attempt([ask]);
    const v = judgeClaimAt(answers, 0, false);
    const token = tokens[0] as string;
    const drops: Release[] = [];
    let result: LeaseResult;
    if (v.kind === 'won') {
      this.d.health.ok();
      result = this.#take(ask, token, sentAtMs, drops);
    } else if (v.kind === 'unavailable') {
      this.d.health.failed(v.error, 'lease');
      result = { outcome: 'unavailable', error: v.error };
    } else {
      this.d.health.ok();
      result = { outcome: 'held' };
    }
    if (v.partial) drops.push({ key: ask.leaseKey, token });
    await this.#drop(drops);
    return result;
  }

  /** See {@link Coordinator.unclaimSlot}. Never rejects. */
  unclaimSlot(watcher: string, slotMs: number, token: string): Promise<void> {
    return this.#drop([{ key: this.d.keys.slot(watcher, slotMs), token }]);
  }

  #claimAsk({ watcher, scope, slotMs, retainMs }: ClaimRequest): Ask {
    const { keys } = this.d;
    return {
      watcher,
      scope,
      leaseKey: keys.lease(watcher, scope),
      slotKey: keys.slot(watcher, slotMs),
      retainMs,
    };
  }

  /**
   * The result of a claim round for one slot, or undefined after a split vote (worth another
   * round). Keys our token holds without a quorum go to `drops`.
   */
  #result(
    ask: Ask,
    v: ClaimVerdict,
    token: string,
    sentAtMs: number,
    drops: Release[],
  ): ClaimLeaseResult | undefined {
    if (v.kind === 'won') {
      this.d.health.ok();
      // Claimed, but the lease is someone else's (overlap): give back the servers we did get.
      if (v.partial) drops.push({ key: ask.leaseKey, token });
      const lease: LeaseResult = v.leased ? this.#take(ask, token, sentAtMs, drops) : { outcome: 'held' };
      return { claim: 'claimed', lease, token };
    }
    // Lost or split: give back what we hold, so that a retry (ours or another instance's) can
    // reach a majority. A majority that exists elsewhere stays untouched.
    if (v.partial && ask.slotKey !== undefined)
      drops.push({ key: ask.slotKey, token }, { key: ask.leaseKey, token });
    if (v.kind === 'unavailable') {
      this.d.health.failed(v.error, 'claim');
      return { claim: 'unavailable' };
    }
    this.d.health.ok();
    return v.kind === 'taken' ? { claim: 'taken' } : undefined;
  }

  /**
   * One CLAIM item per ask on every server, each ask under a new token: every server's answer to
   * the whole batch (judged item by item with {@link judgeClaimAt}), and the tokens.
   */
  async #attempt(asks: readonly Ask[]): Promise<{ answers: Vote[]; tokens: string[]; sentAtMs: number }> {
    const tokens = asks.map(() => this.d.tokens.next());
    const sentAtMs = Date.now();
    const items = asks.map((a, n) => this.#item(a, tokens[n] as string, sentAtMs));
    const answers = await poll(this.d.servers, (s) => s.claim.push(items));
    return { answers, tokens, sentAtMs };
  }

  #item(a: Ask, token: string, sentAtMs: number): ScriptItem {
    // Overlap allow: per-slot leases, with a holder record naming the latest (for `status`).
    const holder =
      a.scope.kind === 'slot'
        ? JSON.stringify({ instance: this.d.instanceId, sinceMs: sentAtMs, key: a.leaseKey })
        : '';
    const retain = a.retainMs === undefined ? '0' : String(Math.max(1, Math.ceil(a.retainMs)));
    return {
      keys: [a.slotKey ?? a.leaseKey, a.leaseKey, this.d.keys.holder(a.watcher)],
      args: [token, retain, this.#leaseMs, holder],
    };
  }

  /**
   * A lease a quorum took: kept from now on, unless it took so long to win (half the lease) that
   * the keys' TTLs, which run from the moment each server got the request, leave too little.
   */
  #take(a: Ask, token: string, sentAtMs: number, drops: Release[]): LeaseResult {
    if (Date.now() - sentAtMs >= this.d.leaseMs / 2) {
      drops.push({ key: a.leaseKey, token });
      return { outcome: 'unavailable', error: leaseLost(a.leaseKey, 'late') };
    }
    return { outcome: 'acquired', lease: this.d.keeper.hold(a.watcher, a.leaseKey, token, sentAtMs) };
  }

  /** Deletes each key where it still holds its token. Never rejects. */
  #drop(drops: readonly Release[]): Promise<void> {
    return drops.length === 0 ? Promise.resolve() : this.d.releaser.release(drops);
  }
}
