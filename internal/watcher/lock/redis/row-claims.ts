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
  readonly #retry: ScriptCall;
  readonly #claimable: ScriptCall;
  readonly #due: ScriptCall;

  constructor(private readonly o: RedisRowClaimsOptions) {
    this.#keys = rowKeyNames(o.keyPrefix, o.watcher);
    this.#token = `${o.instanceId}:${randomBytes(6).toString('base64url')}`;
    this.#claim = defineScript(o.redis, ROW_CLAIM);
    this.#extend = defineScript(o.redis, ROW_EXTEND);
    this.#release = defineScript(o.redis, ROW_RELEASE);
    this.#retry = defineScript(o.redis, ROW_RETRY);
    this.#claimable = defineScript(o.redis, ROW_CLAIMABLE);
    this.#due = defineScript(o.redis, ROW_DUE);
  }

  #pairs(ids: readonly RowId[]): string[] {
    const keys: string[] = [];
    for (const id of ids) keys.push(this.#keys.claim(id), this.#keys.retry(id));
    return keys;
  }

  /** Calls a per-row script: the index and the rows' keys, then token, lease and the row ids. */
  async #perRow(
    call: ScriptCall,
    rowKeys: string[],
    leaseMs: number,
    ids: readonly RowId[],
  ): Promise<number[]> {
    const keys = [this.#keys.index, ...rowKeys];
    return (await call(keys.length, ...keys, this.#token, String(leaseMs), ...ids)) as number[];
  }

  async claim(ids: readonly RowId[], leaseMs: number): Promise<Map<RowId, number>> {
    const got = new Map<RowId, number>();
    if (ids.length === 0) return got;
    const replies = await this.#perRow(this.#claim, this.#pairs(ids), leaseMs, ids);
    ids.forEach((id, i) => {
      const attempt = Number(replies[i] ?? 0);
      if (attempt > 0) got.set(id, attempt);
    });
    return got;
  }

  async extend(ids: readonly RowId[], leaseMs: number): Promise<Set<RowId>> {
    const held = new Set<RowId>();
    if (ids.length === 0) return held;
    const claimKeys = ids.map((id) => this.#keys.claim(id));
    const replies = await this.#perRow(this.#extend, claimKeys, leaseMs, ids);
    ids.forEach((id, i) => {
      if (Number(replies[i]) === 1) held.add(id);
    });
    return held;
  }

  async release(ids: readonly RowId[]): Promise<void> {
    if (ids.length === 0) return;
    const keys = [this.#keys.index, ...this.#pairs(ids)];
    await this.#release(keys.length, ...keys, this.#token, '0', '0', ...ids);
  }

  async finish(ids: readonly RowId[], tombstoneMs: number): Promise<void> {
    if (ids.length === 0) return;
    const keys = [this.#keys.index, ...this.#pairs(ids)];
    await this.#release(keys.length, ...keys, this.#token, '1', String(Math.round(tombstoneMs)), ...ids);
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

  async claimable(ids: readonly RowId[]): Promise<Set<RowId>> {
    const free = new Set<RowId>();
    if (ids.length === 0) return free;
    const keys = this.#pairs(ids);
    const replies = (await this.#claimable(keys.length, ...keys)) as number[];
    ids.forEach((id, i) => {
      if (Number(replies[i]) === 1) free.add(id);
    });
    return free;
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

  async stats(): Promise<Record<string, string>> {
    return this.o.redis.hgetall(this.#keys.stats);
  }
}

/** Row claims of one status watcher on Redis. */
export function createRedisRowClaims(o: RedisRowClaimsOptions): RowClaims {
  return new RedisRowClaims(o);
}
