/**
 * `lock.backend: redis`: slot claims and leases on one Redis server (standalone, Sentinel, Cluster),
 * or by majority over several independent Redis servers (`lock.redis-addrs`, the Redlock scheme).
 *
 * Cost per slot: the claim and the lease are one script item, and the items of all watchers due in
 * the same event-loop turn go out as one `EVALSHA` per server ({@link ScriptBatcher}); releases and
 * last-run records likewise. One shared timer extends every held lease (no timer per lease).
 *
 * ## Quorum over N independent servers
 *
 * With N servers the quorum is Q = floor(N/2) + 1. Every claim and lease attempt uses a fresh token
 * (instance id, a per-process nonce, a counter) and asks every server to `SET key token NX PX t`.
 * - A slot is **claimed** when at least Q servers accepted the claim. A winner never deletes its
 *   claim; it expires after its retention (minutes, far beyond the slot's grace period). Two
 *   instances can never both reach Q for one key while the claims live: two majorities of N share
 *   a server, and a server holds one value per key. So at most one instance runs a slot.
 * - A loser (fewer than Q accepts) deletes its partial claims at once (compare-and-delete on its own
 *   token, so nobody else's value is touched). Deleting cannot let a second instance reach Q while
 *   a winner exists: the winner's Q values stay. It only undoes split votes (three instances each
 *   holding one server of three), after which the losers retry a few times with a random pause, so a
 *   split does not skip the slot. When the answers show one token already on Q servers, there is a
 *   winner and no retry.
 * - Fewer than Q servers answering is "backend unavailable": the slot is skipped and counted, never
 *   run (safety over liveness). A claim that reached Q on the servers but whose replies were lost is
 *   seen as a failure: the slot is skipped by everyone, never run twice.
 * - A lease is acquired when Q servers took its token and less than half the lease has passed since
 *   the request was sent (the validity check of Redlock: the keys' TTLs run from the moment each
 *   server received the request). It is extended by majority; it is lost when enough servers report
 *   another value (or none) that a majority is impossible, or when the local validity estimate runs
 *   out without a majority of extensions.
 *
 * Limits, as for Redlock: the servers must be independent (not replicas of one another: a failover
 * can lose the latest writes), and a server that restarts without persistence forgets its keys; run
 * them with `appendonly yes` + `appendfsync always`, or keep a restarted server out for the claim
 * retention (a few minutes). Server clocks drive the TTLs; large clock jumps on a server shorten them.
 *
 * The fixed-delay chain and the last-run records live on the main `redis` connection (the same
 * server as the claims when there is one server).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { sleep } from '../../pkg/clock/clock.js';
import { BackendHealth } from './backend-health.js';
import type {
  ClaimLeaseResult,
  ClaimRequest,
  Coordinator,
  FinishedRun,
  LastRunRecord,
  LeaseResult,
  LeaseScope,
} from './coordinator.js';
import { keyNames } from './keys.js';
import { ScriptBatcher, scriptOf, type RedisLike } from './redis-batch.js';
import { RedisLease, leaseLost } from './redis-lease.js';
import { ADVANCE_CHAIN, CLAIM_LEASE, CLAIM_RUNNING, FINISH_RUN, KEY_OPS } from './redis-scripts.js';

export type { RedisLike } from './redis-batch.js';

/** Options of {@link createRedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /**
   * The main Redis client (chain and last-run records; also claims and leases unless `lockRedis`
   * names other servers). An array is read as `lockRedis`, its first client being the main one.
   * Give each client `maxRetriesPerRequest`, `commandTimeout` and an `error` listener: the
   * defaults queue commands for a long time while Redis is down.
   */
  readonly redis: RedisLike | readonly RedisLike[];
  /**
   * Independent Redis servers (`lock.redis-addrs`) for claims and leases by majority.
   * @defaultValue `[redis]`
   */
  readonly lockRedis?: readonly RedisLike[];
  /** `lock.key-prefix`; a `:` is added when missing. Must not contain `{` (hash tags). */
  readonly keyPrefix: string;
  /** `lock.lease`: lease length; the holder extends it every third of it. */
  readonly leaseMs: number;
  readonly instanceId: string;
  readonly logger?: Logger;
  /**
   * Retries of a claim after a split vote (no token on a majority).
   * @defaultValue 3
   */
  readonly splitRetries?: number;
}

/** The claim/lease and the key-ops scripts of one server. */
interface Server {
  readonly claim: ScriptBatcher;
  readonly ops: ScriptBatcher;
  /** {@link CLAIM_RUNNING} and {@link FINISH_RUN}, sent by the batch paths ({@link ScriptBatcher.send}). */
  readonly claimRunning: ScriptBatcher;
  readonly finish: ScriptBatcher;
  readonly client: RedisLike;
}

/** One server's answer to one item: a reply, or the error of the call. */
type Vote = { readonly ok: true; readonly reply: unknown } | { readonly ok: false; readonly error: unknown };

const serversByClient = new WeakMap<RedisLike, Server>();

function serverOf(client: RedisLike): Server {
  let s = serversByClient.get(client);
  if (s === undefined) {
    s = {
      client,
      claim: new ScriptBatcher(client, 'iamWatcherClaimLease', CLAIM_LEASE),
      ops: new ScriptBatcher(client, 'iamWatcherKeyOps', KEY_OPS),
      claimRunning: new ScriptBatcher(client, 'iamWatcherClaimRunning', CLAIM_RUNNING),
      finish: new ScriptBatcher(client, 'iamWatcherFinishRun', FINISH_RUN),
    };
    serversByClient.set(client, s);
  }
  return s;
}

const ignore = (): void => undefined;
const toVote = (reply: unknown): Vote => ({ ok: true, reply });
const toFailedVote = (error: unknown): Vote => ({ ok: false, error });
const single = (v: Vote): Vote[] => [v];

/** Asks every server; one vote each, never rejects. */
function poll(servers: readonly Server[], ask: (s: Server) => Promise<unknown>): Promise<Vote[]> {
  // One server (the usual set-up): no Promise.all and no closures per call on the hot path.
  if (servers.length === 1 && servers[0] !== undefined)
    return ask(servers[0]).then(toVote, toFailedVote).then(single);
  return Promise.all(
    servers.map((s) =>
      ask(s).then(
        (reply): Vote => ({ ok: true, reply }),
        (error: unknown): Vote => ({ ok: false, error }),
      ),
    ),
  );
}

function firstError(votes: readonly Vote[]): unknown {
  for (const v of votes) if (!v.ok) return v.error;
  return new Error('no answer');
}

function isList(r: RedisLike | readonly RedisLike[]): r is readonly RedisLike[] {
  return Array.isArray(r);
}

/** The plain reads used here, typed once for both client kinds. */
interface Reads {
  get(key: string): Promise<string | null>;
  exists(key: string): Promise<number>;
}
const reads = (c: RedisLike): Reads => c;

/** Reads the holder out of a lease token (see `token()` in {@link createRedisCoordinator}). */
function parseToken(value: string): { instance: string; sinceMs: number } | undefined {
  const parts = value.split(':');
  if (parts.length < 4) return undefined;
  return { instance: parts.slice(3).join(':'), sinceMs: Number(parts[0]) };
}

// Shared answers (read-only by type): no allocation for the common outcomes.
const HELD: LeaseResult = { outcome: 'held' };
const TAKEN: ClaimLeaseResult = { claim: 'taken' };
const UNAVAILABLE: ClaimLeaseResult = { claim: 'unavailable' };

/** Creates the Redis coordinator. */
export function createRedisCoordinator(options: RedisCoordinatorOptions): Coordinator {
  const given: readonly RedisLike[] = isList(options.redis) ? options.redis : [options.redis];
  const main = given[0];
  if (main === undefined) throw new Error('createRedisCoordinator: no Redis client');
  const lockClients =
    options.lockRedis !== undefined && options.lockRedis.length > 0 ? options.lockRedis : given;
  const servers = lockClients.map(serverOf);
  const records = serverOf(main);
  const quorum = Math.floor(servers.length / 2) + 1;
  const leaseMs = options.leaseMs;
  const splitRetries = servers.length > 1 ? (options.splitRetries ?? 3) : 0;
  const keys = keyNames(options.keyPrefix);
  const health = new BackendHealth(options.logger, 'redis');
  const nonce = randomBytes(6).toString('base64url');
  let seq = 0;
  // `<sinceMs>:<nonce>:<seq>:<instance>`: unique per attempt, and the running lease's value tells
  // `status` who holds it since when (no holder record to write on the hot path).
  const token = (): string => `${Date.now()}:${nonce}:${(seq++).toString(36)}:${options.instanceId}`;
  const instanceJson = JSON.stringify(options.instanceId);
  const advanceChain = scriptOf(main, 'iamWatcherAdvanceChain', ADVANCE_CHAIN);
  const leaseMsText = String(leaseMs);

  const guard = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      health.ok();
      return result;
    } catch (err) {
      health.failed(err, operation);
      throw err;
    }
  };

  /** Deletes `key` on every server where it still holds `value`. Never rejects. */
  const dropEverywhere = async (key: string, value: string): Promise<void> => {
    await poll(servers, (s) => s.ops.push([key], ['d', value, '']));
  };

  const keeper = new LeaseKeeper(servers, quorum, leaseMs, health);
  const releaseLease = (l: RedisLease): Promise<void> => keeper.release(l);
  // Key names asked for every slot of every watcher, made once per watcher.
  const runningKeys = new Map<string, string>();
  const lastRunKeys = new Map<string, string>();
  const leaseKeyOf = (watcher: string, scope: LeaseScope): string => {
    if (scope.kind !== 'running') return keys.lease(watcher, scope);
    let k = runningKeys.get(watcher);
    if (k === undefined) runningKeys.set(watcher, (k = keys.lease(watcher, scope)));
    return k;
  };
  const lastRunKeyOf = (watcher: string): string => {
    let k = lastRunKeys.get(watcher);
    if (k === undefined) lastRunKeys.set(watcher, (k = keys.lastRun(watcher)));
    return k;
  };
  // Watchers due together mostly share a retention: format the last one once.
  let lastRetainMs = Number.NaN;
  let lastRetainText = '';
  const retainText = (retainMs: number): string => {
    if (retainMs !== lastRetainMs) {
      lastRetainText = String(Math.max(1, Math.ceil(retainMs)));
      lastRetainMs = retainMs;
    }
    return lastRetainText;
  };

  /**
   * One claim/lease attempt on every server. `claimValue` '' asks for the lease only; `lease`
   * undefined asks for the claim only.
   */
  const attempt = async (
    watcher: string,
    slotKey: string,
    claimValue: string,
    retainMs: number,
    lease: { key: string; scope: LeaseScope } | undefined,
  ): Promise<{ votes: Vote[]; sentAtMs: number; leaseToken: string }> => {
    const leaseToken = lease === undefined ? '' : claimValue || token();
    const holderRec =
      lease?.scope.kind !== 'slot'
        ? ''
        : `{"instance":${instanceJson},"sinceMs":${Date.now()},"key":${JSON.stringify(lease.key)}}`;
    const k = [slotKey, lease?.key ?? slotKey, keys.holder(watcher)];
    const a = [claimValue, String(Math.max(1, Math.ceil(retainMs))), leaseToken, String(leaseMs), holderRec];
    const sentAtMs = Date.now();
    const votes = await poll(servers, (s) => s.claim.push(k, a));
    return { votes, sentAtMs, leaseToken };
  };

  /** Turns a won lease vote into a held lease, or undoes it when it took too long to be valid. */
  const takeLease = async (
    watcher: string,
    key: string,
    leaseToken: string,
    sentAtMs: number,
  ): Promise<LeaseResult> => {
    if (Date.now() - sentAtMs >= leaseMs / 2) {
      await dropEverywhere(key, leaseToken);
      return { outcome: 'unavailable', error: new Error(`lease ${key}: acquired too late to be valid`) };
    }
    const lease = new RedisLease(watcher, key, leaseToken, sentAtMs, leaseMs, releaseLease);
    keeper.add(lease);
    return { outcome: 'acquired', lease };
  };

  /**
   * {@link claimAndLease} on one server (the usual set-up): one script item and one promise, no
   * votes to count. With one server a claim is decided by its answer: no split vote, no retry.
   */
  const claimOnOne = (
    server: Server,
    watcher: string,
    slotMs: number,
    retainMs: number,
    scope: LeaseScope | undefined,
  ): Promise<ClaimLeaseResult> => {
    const slotKey = keys.slot(watcher, slotMs);
    const leaseKey = scope === undefined ? undefined : leaseKeyOf(watcher, scope);
    const claimValue = token();
    const holderRec =
      scope?.kind !== 'slot'
        ? ''
        : `{"instance":${instanceJson},"sinceMs":${Date.now()},"key":${JSON.stringify(leaseKey)}}`;
    const sentAtMs = Date.now();
    return server.claim
      .push(
        [slotKey, leaseKey ?? slotKey, keys.holder(watcher)],
        [
          claimValue,
          String(Math.max(1, Math.ceil(retainMs))),
          leaseKey === undefined ? '' : claimValue,
          leaseMsText,
          holderRec,
        ],
      )
      .then(
        (reply): ClaimLeaseResult | Promise<ClaimLeaseResult> => {
          health.ok();
          if (reply === 1) {
            if (leaseKey === undefined) return { claim: 'claimed', lease: HELD, token: claimValue };
            return takeLease(watcher, leaseKey, claimValue, sentAtMs).then((lease) => ({
              claim: 'claimed',
              lease,
              token: claimValue,
            }));
          }
          if (reply === 2) return { claim: 'claimed', lease: HELD, token: claimValue };
          return TAKEN;
        },
        (err: unknown): ClaimLeaseResult => {
          health.failed(err, 'claim');
          return UNAVAILABLE;
        },
      );
  };

  /**
   * {@link claimOnOne} for many slots. The usual ones (the "running" lease) go out a hundred per
   * {@link CLAIM_RUNNING} call, and each call's replies become results in one pass (no promise per
   * slot); leases are taken as in {@link takeLease}. Per-slot leases (overlap allow) go one by one.
   */
  const claimManyOnOne = (server: Server, requests: readonly ClaimRequest[]): Promise<ClaimLeaseResult[]> => {
    const results = new Array<ClaimLeaseResult>(requests.length);
    const calls: Promise<void>[] = [];
    const size = server.claimRunning.itemsPerCall;
    let batch: number[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      const items = batch;
      batch = [];
      const k: string[] = [];
      const a: string[] = [leaseMsText];
      const tokens: string[] = [];
      for (const i of items) {
        const r = requests[i] as ClaimRequest;
        const t = token();
        tokens.push(t);
        k.push(keys.slot(r.watcher, r.slotMs), leaseKeyOf(r.watcher, r.scope));
        a.push(t, retainText(r.retainMs));
      }
      const sentAtMs = Date.now();
      calls.push(
        server.claimRunning.send(k, a).then(
          (replies) => {
            health.ok();
            const late = Date.now() - sentAtMs >= leaseMs / 2;
            for (let n = 0; n < items.length; n++) {
              const i = items[n] as number;
              const r = requests[i] as ClaimRequest;
              const reply = replies[n];
              const t = tokens[n] as string;
              if (reply === 1) {
                const leaseKey = leaseKeyOf(r.watcher, r.scope);
                if (late) {
                  void dropEverywhere(leaseKey, t);
                  const error = new Error(`lease ${leaseKey}: acquired too late to be valid`);
                  results[i] = { claim: 'claimed', lease: { outcome: 'unavailable', error }, token: t };
                  continue;
                }
                const lease = new RedisLease(r.watcher, leaseKey, t, sentAtMs, leaseMs, releaseLease);
                keeper.add(lease);
                results[i] = { claim: 'claimed', lease: { outcome: 'acquired', lease }, token: t };
              } else if (reply === 2) results[i] = { claim: 'claimed', lease: HELD, token: t };
              else results[i] = TAKEN;
            }
          },
          (err: unknown) => {
            health.failed(err, 'claim');
            for (const i of items) results[i] = UNAVAILABLE;
          },
        ),
      );
    };
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i] as ClaimRequest;
      if (r.scope.kind !== 'running') {
        calls.push(
          claimOnOne(server, r.watcher, r.slotMs, r.retainMs, r.scope).then((res) => {
            results[i] = res;
          }),
        );
        continue;
      }
      batch.push(i);
      if (batch.length >= size) flush();
    }
    flush();
    return Promise.all(calls).then(() => results);
  };

  /**
   * Releases and records many ended runs on one server, a hundred per {@link FINISH_RUN} call.
   * Never rejects.
   */
  const finishOnOne = (server: Server, runs: readonly FinishedRun[]): Promise<void> => {
    const calls: Promise<void>[] = [];
    const size = server.finish.itemsPerCall;
    for (let from = 0; from < runs.length; from += size) {
      const to = Math.min(runs.length, from + size);
      const k: string[] = [];
      const a: string[] = [];
      const releasing: RedisLease[] = [];
      for (let i = from; i < to; i++) {
        const { lease, record } = runs[i] as FinishedRun;
        if (lease instanceof RedisLease && lease.startRelease()) {
          keeper.forget(lease);
          releasing.push(lease);
          k.push(lease.key, lastRunKeyOf(record.watcher));
          a.push(lease.token, JSON.stringify(record));
        } else {
          // Released already (or not ours to release here): the record only.
          if (!(lease instanceof RedisLease)) void lease.release();
          k.push(lease.key, lastRunKeyOf(record.watcher));
          a.push('', JSON.stringify(record));
        }
      }
      const sent = server.finish.send(k, a).then(
        () => health.ok(),
        (err: unknown) => health.failed(err, 'write-last-run'),
      );
      for (const l of releasing) l.releasedBy(sent);
      calls.push(sent);
    }
    return Promise.all(calls).then(ignore);
  };

  const recordRun = (record: LastRunRecord): Promise<void> =>
    records.ops.push([lastRunKeyOf(record.watcher)], ['s', JSON.stringify(record), '']).then(
      () => health.ok(),
      (err: unknown) => {
        health.failed(err, 'write-last-run');
        throw err;
      },
    );

  const claimAndLease = async (
    watcher: string,
    slotMs: number,
    retainMs: number,
    scope: LeaseScope | undefined,
  ): Promise<ClaimLeaseResult> => {
    const only = servers.length === 1 ? servers[0] : undefined;
    if (only !== undefined) return claimOnOne(only, watcher, slotMs, retainMs, scope);
    const slotKey = keys.slot(watcher, slotMs);
    const leaseKey = scope === undefined ? undefined : keys.lease(watcher, scope);
    for (let round = 0; ; round++) {
      const claimValue = token();
      const lease = leaseKey === undefined || scope === undefined ? undefined : { key: leaseKey, scope };
      const { votes, sentAtMs, leaseToken } = await attempt(watcher, slotKey, claimValue, retainMs, lease);
      let claimed = 0;
      let leased = 0;
      let answered = 0;
      let owners: Map<string, number> | undefined;
      for (const v of votes) {
        if (!v.ok) continue;
        answered += 1;
        if (v.reply === 1) {
          claimed += 1;
          leased += 1;
        } else if (v.reply === 2) claimed += 1;
        else if (typeof v.reply === 'string') {
          owners ??= new Map();
          owners.set(v.reply, (owners.get(v.reply) ?? 0) + 1);
        }
      }
      if (claimed >= quorum) {
        health.ok();
        if (leaseKey === undefined) return { claim: 'claimed', lease: HELD, token: claimValue };
        if (leased >= quorum)
          return {
            claim: 'claimed',
            lease: await takeLease(watcher, leaseKey, leaseToken, sentAtMs),
            token: claimValue,
          };
        // Claimed, but the lease is someone else's (overlap): give back the servers we did get.
        if (leased > 0) await dropEverywhere(leaseKey, leaseToken);
        return { claim: 'claimed', lease: HELD, token: claimValue };
      }
      // Lost or split: delete our partial claim and lease, so that a retry (ours or another
      // instance's) can reach a majority. A majority that exists elsewhere stays untouched.
      if (claimed > 0) {
        await Promise.all([
          dropEverywhere(slotKey, claimValue),
          leased > 0 && leaseKey !== undefined ? dropEverywhere(leaseKey, leaseToken) : undefined,
        ]);
      }
      if (answered < quorum) {
        health.failed(firstError(votes), 'claim');
        return { claim: 'unavailable' };
      }
      health.ok();
      const decided = owners !== undefined && [...owners.values()].some((n) => n >= quorum);
      if (decided || round >= splitRetries) return { claim: 'taken' };
      await sleep(5 + Math.random() * 30);
    }
  };

  const acquireLease = async (watcher: string, scope: LeaseScope): Promise<LeaseResult> => {
    const key = keys.lease(watcher, scope);
    const { votes, sentAtMs, leaseToken } = await attempt(watcher, key, '', 0, { key, scope });
    let leased = 0;
    let answered = 0;
    for (const v of votes) {
      if (!v.ok) continue;
      answered += 1;
      if (v.reply === 1) leased += 1;
    }
    if (leased >= quorum) {
      health.ok();
      return takeLease(watcher, key, leaseToken, sentAtMs);
    }
    if (leased > 0) await dropEverywhere(key, leaseToken);
    if (answered < quorum) {
      const error = firstError(votes);
      health.failed(error, 'lease');
      return { outcome: 'unavailable', error };
    }
    health.ok();
    return { outcome: 'held' };
  };

  /** True when any answering server has the key; throws when fewer than a majority answer. */
  const existsAnywhere = async (key: string, operation: string): Promise<boolean> =>
    guard(operation, async () => {
      const votes = await poll(servers, (s) => reads(s.client).exists(key));
      const answers = votes.filter((v): v is { ok: true; reply: unknown } => v.ok);
      if (answers.length < quorum) throw firstError(votes);
      return answers.some((v) => v.reply === 1);
    });

  return {
    backend: 'redis',
    leaseMs,
    get available() {
      return health.available;
    },
    claimAndLease: (requests) => {
      const only = servers.length === 1 ? servers[0] : undefined;
      if (only !== undefined) return claimManyOnOne(only, requests);
      return Promise.all(requests.map((r) => claimAndLease(r.watcher, r.slotMs, r.retainMs, r.scope)));
    },
    finishRuns: (runs) => {
      const only = servers.length === 1 ? servers[0] : undefined;
      if (only !== undefined && only === records) return finishOnOne(only, runs);
      return Promise.all(
        runs.map((r) => Promise.all([r.lease.release(), recordRun(r.record).catch(ignore)])),
      ).then(ignore);
    },
    unclaimSlot: (watcher, slotMs, claimToken) => dropEverywhere(keys.slot(watcher, slotMs), claimToken),
    isClaimed: (watcher, slotMs) => existsAnywhere(keys.slot(watcher, slotMs), 'read-claim'),
    acquireLease,
    isRunning: (watcher) => existsAnywhere(keys.lease(watcher, { kind: 'running' }), 'read-running'),
    chainEnd: (watcher) =>
      guard('read-chain', async () => {
        const v = await reads(main).get(keys.chain(watcher));
        return v === null || v === '' ? undefined : Number(v);
      }),
    advanceChain: (watcher, expectedMs, endMs) =>
      guard('write-chain', async () => {
        const r = await advanceChain(
          1,
          keys.chain(watcher),
          expectedMs === undefined ? '' : String(expectedMs),
          String(endMs),
        );
        return r === 1;
      }),
    recordRun,
    lastRun: (watcher) =>
      guard('read-last-run', async () => {
        const v = await reads(main).get(keys.lastRun(watcher));
        return v === null ? undefined : (JSON.parse(v) as LastRunRecord);
      }),
    holder: (watcher) =>
      guard('read-holder', async () => {
        const votes = await poll(servers, async (s) => {
          const running = await reads(s.client).get(keys.lease(watcher, { kind: 'running' }));
          if (running !== null) return parseToken(running);
          // overlap allow: per-slot leases, with a holder record naming the latest one.
          const v = await reads(s.client).get(keys.holder(watcher));
          if (v === null) return undefined;
          const rec = JSON.parse(v) as { instance: string; sinceMs: number; key: string };
          return (await reads(s.client).exists(rec.key)) === 1 ? rec : undefined;
        });
        if (votes.filter((v) => v.ok).length < quorum) throw firstError(votes);
        for (const v of votes) {
          const rec = v.ok ? (v.reply as { instance: string; sinceMs: number } | undefined) : undefined;
          if (rec !== undefined) return { instance: rec.instance, sinceMs: rec.sinceMs };
        }
        return undefined;
      }),
    close: () => keeper.close(),
  };
}

/**
 * Extends every held lease from one shared timer that ticks every tenth of the lease while any lease
 * is held: a lease is renewed once a third of it has passed since its last renewal, and a failed
 * renewal is retried at the next tick until the lease's validity runs out.
 */
class LeaseKeeper {
  readonly #leases = new Set<RedisLease>();
  #timer: NodeJS.Timeout | undefined;
  readonly #tickMs: number;

  constructor(
    private readonly servers: readonly Server[],
    private readonly quorum: number,
    private readonly leaseMs: number,
    private readonly health: BackendHealth,
  ) {
    this.#tickMs = Math.max(5, Math.floor(leaseMs / 10));
  }

  add(lease: RedisLease): void {
    this.#leases.add(lease);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#tickMs);
      this.#timer.unref();
    }
  }

  release(lease: RedisLease): Promise<void> {
    this.forget(lease);
    const only = this.servers.length === 1 ? this.servers[0] : undefined;
    // Never rejects: a key not deleted expires with its lease.
    if (only !== undefined) return only.ops.push([lease.key], ['d', lease.token, '']).then(ignore, ignore);
    return poll(this.servers, (s) => s.ops.push([lease.key], ['d', lease.token, ''])).then(ignore);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#leases].map((l) => l.release()));
  }

  /** Stops extending a lease (its holder releases it). */
  forget(lease: RedisLease): void {
    this.#leases.delete(lease);
    if (this.#leases.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    const now = Date.now();
    const due = this.leaseMs / 3;
    for (const lease of this.#leases) {
      if (!lease.held) {
        this.forget(lease);
      } else if (now >= lease.validUntilMs) {
        this.#lose(lease, leaseLost(lease.key, 'expired'));
      } else if (!lease.extending && now - lease.renewedAtMs >= due) {
        void this.#extend(lease);
      }
    }
  }

  async #extend(lease: RedisLease): Promise<void> {
    lease.extending = true;
    const sentAtMs = Date.now();
    const votes = await poll(this.servers, (s) =>
      s.ops.push([lease.key], ['x', lease.token, String(this.leaseMs)]),
    );
    lease.extending = false;
    if (!lease.held) return;
    let ok = 0;
    let notOurs = 0;
    for (const v of votes) {
      if (v.ok && v.reply === 1) ok += 1;
      else if (v.ok) notOurs += 1;
    }
    if (ok >= this.quorum) {
      this.health.ok();
      lease.renewedAtMs = sentAtMs;
      lease.validUntilMs = sentAtMs + this.leaseMs;
      return;
    }
    if (notOurs > this.servers.length - this.quorum) {
      this.#lose(lease, leaseLost(lease.key, 'held'));
      return;
    }
    const err = firstError(votes);
    this.health.failed(err, 'extend');
    if (Date.now() >= lease.validUntilMs) this.#lose(lease, leaseLost(lease.key, 'expired', err));
  }

  #lose(lease: RedisLease, reason: ReturnType<typeof leaseLost>): void {
    this.forget(lease);
    lease.lose(reason);
  }
}
