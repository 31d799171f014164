/**
 * {@link RowClaims} on the main Redis connection (`redis.*`): one script call per batch of rows.
 * The claims, retry records and counters of one watcher share a hash slot (`rows:{<watcher>}:`).
 */
import { randomBytes } from 'node:crypto';
import type { RowClaims, RowId, RowKeyNames } from '../row-claims.js';
import { rowKeyNames } from '../row-claims.js';
import { defineScript, type RedisLike, type ScriptCall } from './batcher.js';
import {
  ROW_CLAIM,
  ROW_CLAIMABLE,
  ROW_DUE,
  ROW_EXTEND,
  ROW_RELEASE,
  ROW_RETRY,
  ROW_SETTLE,
} from './scripts/row-claim.js';

/** Options of {@link createRedisRowClaims}. */
export interface RedisRowClaimsOptions {
  readonly redis: RedisLike;
  /** `lock.key-prefix`. */
  readonly keyPrefix: string;
  readonly watcher: string;
  readonly instanceId: string;
}

class RedisRowClaims implements RowClaims {
  readonly #keys: RowKeyNames;
  /** Unique per process: a restarted replica never mistakes its predecessor's claims for its own. */
  readonly #token: string;
  readonly #claim: ScriptCall;
  readonly #extend: ScriptCall;
  readonly #release: ScriptCall;
  readonly #settle: ScriptCall;
  readonly #retry: ScriptCall;
  readonly #claimable: ScriptCall;
  readonly #due: ScriptCall;

  constructor(private readonly o: RedisRowClaimsOptions) {
    this.#keys = rowKeyNames(o.keyPrefix, o.watcher);
    this.#token = `${o.instanceId}:${randomBytes(6).toString('base64url')}`;
    this.#claim = defineScript(o.redis, ROW_CLAIM);
    this.#extend = defineScript(o.redis, ROW_EXTEND);
    this.#release = defineScript(o.redis, ROW_RELEASE);
    this.#settle = defineScript(o.redis, ROW_SETTLE);
    this.#retry = defineScript(o.redis, ROW_RETRY);
    this.#claimable = defineScript(o.redis, ROW_CLAIMABLE);
    this.#due = defineScript(o.redis, ROW_DUE);
  }

  /** Calls a per-row script: the index, then `head` (token, ms, key prefixes) and the row ids. */
  async #perRow(call: ScriptCall, head: string[], ids: readonly RowId[]): Promise<number[]> {
    return (await call(1, this.#keys.index, ...head, ...ids)) as number[];
  }

  /** The rows whose reply is `1`. */
  static #ones(ids: readonly RowId[], replies: readonly number[]): Set<RowId> {
    const out = new Set<RowId>();
    for (let i = 0; i < ids.length; i++) if (Number(replies[i]) === 1) out.add(ids[i] as RowId);
    return out;
  }

  async claim(ids: readonly RowId[], leaseMs: number): Promise<Map<RowId, number>> {
    const got = new Map<RowId, number>();
    if (ids.length === 0) return got;
    const k = this.#keys;
    const head = [this.#token, String(leaseMs), k.claimPrefix, k.retryPrefix];
    const replies = await this.#perRow(this.#claim, head, ids);
    for (let i = 0; i < ids.length; i++) {
      const attempt = Number(replies[i] ?? 0);
      if (attempt > 0) got.set(ids[i] as RowId, attempt);
    }
    return got;
  }

  async extend(ids: readonly RowId[], leaseMs: number): Promise<Set<RowId>> {
    if (ids.length === 0) return new Set();
    const head = [this.#token, String(leaseMs), this.#keys.claimPrefix];
    return RedisRowClaims.#ones(ids, await this.#perRow(this.#extend, head, ids));
  }

  async release(ids: readonly RowId[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#perRow(this.#release, [this.#token, this.#keys.claimPrefix], ids);
  }

  async settle(ids: readonly RowId[], holdMs: number): Promise<Set<RowId>> {
    if (ids.length === 0) return new Set();
    const k = this.#keys;
    const head = [this.#token, String(Math.round(holdMs)), k.claimPrefix, k.retryPrefix];
    return RedisRowClaims.#ones(ids, await this.#perRow(this.#settle, head, ids));
  }

  async retryLater(id: RowId, attempt: number, delayMs: number, keepMs: number): Promise<void> {
    await this.#retry(
      3,
      this.#keys.index,
      this.#keys.claim(id),
      this.#keys.retry(id),
      this.#token,
      String(attempt),
      String(Math.round(delayMs)),
      String(Math.round(keepMs)),
      id,
    );
  }

  async due(most: number, leaseMs: number): Promise<Map<RowId, number>> {
    const k = this.#keys;
    const flat = (await this.#due(
      1,
      k.index,
      this.#token,
      String(leaseMs),
      String(most),
      k.claimPrefix,
      k.retryPrefix,
    )) as Array<string | number>;
    const got = new Map<RowId, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) got.set(String(flat[i]), Number(flat[i + 1]));
    return got;
  }

  async settled(ids: readonly RowId[]): Promise<void> {
    if (ids.length > 0) await this.o.redis.zrem(this.#keys.index, ...ids);
  }

  async claimable(ids: readonly RowId[]): Promise<Set<RowId>> {
    if (ids.length === 0) return new Set();
    const head = [this.#keys.claimPrefix, this.#keys.retryPrefix];
    return RedisRowClaims.#ones(ids, await this.#perRow(this.#claimable, head, ids));
  }

  async record(
    counts: Readonly<Record<string, number>>,
    sample?: Readonly<Record<string, string>>,
  ): Promise<void> {
    const m = this.o.redis.multi();
    for (const [field, n] of Object.entries(counts)) if (n !== 0) m.hincrby(this.#keys.stats, field, n);
    if (sample) m.hset(this.#keys.stats, sample);
    await m.exec();
  }

  async sampleTurn(everyMs: number): Promise<boolean> {
    const px = Math.max(1, Math.round(everyMs));
    return (await this.o.redis.set(this.#keys.sampler, this.#token, 'PX', px, 'NX')) === 'OK';
  }

  async stats(): Promise<Record<string, string>> {
    return this.o.redis.hgetall(this.#keys.stats);
  }
}

/** Row claims of one status watcher on Redis. */
export function createRedisRowClaims(o: RedisRowClaimsOptions): RowClaims {
  return new RedisRowClaims(o);
}
