/**
 * What the coordinator keeps beside claims and leases, and the reads of both: the fixed-delay chain
 * and the last-run records (on the main connection), the holder of a watcher's run and whether a
 * slot is claimed or a watcher running (by quorum of the lock servers).
 */
import type { LastRunRecord, LeaseHolder } from '../coordinator.js';
import type { KeyNames } from '../keys.js';
import type { BackendHealth } from './backend-health.js';
import { defineScript, type ScriptCall } from './batcher.js';
import { answersOfQuorum, poll } from './quorum.js';
import type { HistoryPush, Releaser, StoredRecord } from './releaser.js';
import { ADVANCE_CHAIN } from './scripts/advance-chain.js';
import type { LockServer } from './servers.js';
import { holderOf } from './tokens.js';

/** The holder record of a per-slot lease (overlap allow), as CLAIM writes it. */
interface HolderRecord extends LeaseHolder {
  readonly key: string;
}

/** Records and reads of one coordinator. */
export class Records {
  readonly #advanceChain: ScriptCall;
  readonly #keysOf = new Map<string, { run: string; success: string; history: HistoryPush }>();

  constructor(
    /** The main connection's server. */
    private readonly main: LockServer,
    private readonly servers: readonly LockServer[],
    private readonly keys: KeyNames,
    private readonly releaser: Releaser,
    private readonly health: BackendHealth,
    /** `history.*`: how the run history is bounded. */
    private readonly history: { readonly size: number; readonly maxAgeMs: number },
  ) {
    this.#advanceChain = defineScript(main.client, ADVANCE_CHAIN);
  }

  /** A run's last-run record as it is stored (an ok run's also as its watcher's last success). */
  stored(record: LastRunRecord): StoredRecord {
    const keys = this.#recordKeys(record.watcher);
    const value = JSON.stringify(record);
    if (record.result !== 'ok') return { key: keys.run, value, history: keys.history };
    return { key: keys.run, value, successKey: keys.success, history: keys.history };
  }

  /**
   * A watcher's record keys and history push, built once: a thousand runs a second need not build
   * them each time.
   */
  #recordKeys(watcher: string): { run: string; success: string; history: HistoryPush } {
    let k = this.#keysOf.get(watcher);
    if (k === undefined) {
      const history = {
        key: this.keys.history(watcher),
        size: this.history.size,
        ttlMs: this.history.maxAgeMs,
      };
      k = { run: this.keys.lastRun(watcher), success: this.keys.lastSuccess(watcher), history };
      this.#keysOf.set(watcher, k);
    }
    return k;
  }

  /** See {@link Coordinator.recordSkipped}: a history entry alone, through the release path. */
  recordSkipped(watcher: string, slotMs: number, instance: string, reason: string): Promise<void> {
    const entry = {
      watcher,
      slotMs,
      instance,
      result: `skipped: ${reason}`,
      startedMs: Date.now(),
      durationMs: 0,
      counts: {},
    };
    const keys = this.#recordKeys(watcher);
    const history = { ...keys.history, entry: JSON.stringify(entry) };
    const record: StoredRecord = { key: keys.run, value: '', history };
    return this.releaser.release([{ key: record.key, token: '', record }]).catch(() => undefined);
  }

  recordRun(record: LastRunRecord): Promise<void> {
    const stored = this.stored(record);
    return this.releaser.release([{ key: stored.key, token: '', record: stored }]);
  }

  lastRun(watcher: string): Promise<LastRunRecord | undefined> {
    return this.health.guard('read-last-run', async () => {
      const v = await this.main.get(this.keys.lastRun(watcher));
      return v === null ? undefined : (JSON.parse(v) as LastRunRecord);
    });
  }

  /** The record of the watcher's last ok run, cluster-wide. */
  lastSuccess(watcher: string): Promise<LastRunRecord | undefined> {
    return this.health.guard('read-last-success', async () => {
      const v = await this.main.get(this.keys.lastSuccess(watcher));
      return v === null ? undefined : (JSON.parse(v) as LastRunRecord);
    });
  }

  chainEnd(watcher: string): Promise<number | undefined> {
    return this.health.guard('read-chain', async () => {
      const v = await this.main.get(this.keys.chain(watcher));
      return v === null || v === '' ? undefined : Number(v);
    });
  }

  advanceChain(watcher: string, expectedMs: number | undefined, endMs: number): Promise<boolean> {
    return this.health.guard('write-chain', async () => {
      const expected = expectedMs === undefined ? '' : String(expectedMs);
      return (await this.#advanceChain(1, this.keys.chain(watcher), expected, String(endMs))) === 1;
    });
  }

  isClaimed(watcher: string, slotMs: number): Promise<boolean> {
    return this.#existsOnAny(this.keys.slot(watcher, slotMs), 'read-claim');
  }

  isRunning(watcher: string): Promise<boolean> {
    return this.#existsOnAny(this.keys.lease(watcher, { kind: 'running' }), 'read-running');
  }

  /** The instance whose run lease (running, or the latest per-slot one) is live. */
  holder(watcher: string): Promise<LeaseHolder | undefined> {
    return this.health.guard('read-holder', async () => {
      const votes = await poll(this.servers, (s) => this.#holderOn(s, watcher));
      const found = answersOfQuorum(votes).find((h) => h !== undefined) as LeaseHolder | undefined;
      return found === undefined ? undefined : { instance: found.instance, sinceMs: found.sinceMs };
    });
  }

  async #holderOn(s: LockServer, watcher: string): Promise<LeaseHolder | undefined> {
    const running = await s.get(this.keys.lease(watcher, { kind: 'running' }));
    if (running !== null) return holderOf(running);
    const v = await s.get(this.keys.holder(watcher));
    if (v === null) return undefined;
    const rec = JSON.parse(v) as HolderRecord;
    return (await s.exists(rec.key)) ? rec : undefined;
  }

  /** True when any answering lock server has the key. @throws when fewer than a quorum answer */
  #existsOnAny(key: string, operation: string): Promise<boolean> {
    return this.health.guard(operation, async () => {
      const votes = await poll(this.servers, (s) => s.exists(key));
      return answersOfQuorum(votes).some((exists) => exists === true);
    });
  }
}
