/**
 * The one release path, for everything the coordinator gives back: leases at the end of their runs,
 * a lease released, slot claims given back at shutdown, the keys a lost or split vote holds on some
 * servers, a lease taken too late to be valid; and, riding along, the last-run records of runs.
 */
import type { BackendHealth } from './backend-health.js';
import type { ScriptItem } from './batcher.js';
import type { LockServer } from './servers.js';

/** A record to store: a last-run record (JSON) under its key, and pushed onto a history list. */
export interface StoredRecord {
  readonly key: string;
  readonly value: string;
  /** Where the record is also stored as the watcher's last success (ok runs only). */
  readonly successKey?: string | undefined;
  /** The watcher's history list, when the record also goes there (see scripts/release.ts). */
  readonly history?: HistoryPush | undefined;
}

/** Where and how a run record joins its watcher's history. */
export interface HistoryPush {
  readonly key: string;
  /** Entries kept. */
  readonly size: number;
  /** The list expires this long after its latest push. */
  readonly ttlMs: number;
  /** The entry, when it is not the record itself (a skipped slot has no last-run record). */
  readonly entry?: string;
}

/** A key to delete where it still holds `token` (`''` = delete nothing), and a record to store. */
export interface Release {
  readonly key: string;
  readonly token: string;
  readonly record?: StoredRecord | undefined;
}

const ignore = (): void => undefined;

/** Releases keys on the lock servers and stores records on the records server. */
export class Releaser {
  constructor(
    private readonly servers: readonly LockServer[],
    /** The server of the main connection: last-run records live there. */
    private readonly records: LockServer,
    private readonly health: BackendHealth,
  ) {}

  /**
   * Deletes each key on every lock server where it still holds its token, and stores the records
   * on the records server: in the same RELEASE item when that is a lock server (the usual single
   * server), so that a run's end is one item. Only records not stored reject (and count as a
   * backend failure); a key not deleted expires with its lease or claim.
   */
  release(releases: readonly Release[]): Promise<void> {
    const calls: Promise<unknown>[] = [];
    const hasRecords = releases.some((r) => r.record !== undefined);
    for (const s of this.servers) {
      const withRecords = hasRecords && s === this.records;
      const items = releases
        .filter((r) => r.token !== '' || (withRecords && r.record !== undefined))
        .map((r) => item(r, withRecords));
      const sent = s.release.push(items);
      calls.push(withRecords ? this.#noted(sent) : sent.catch(ignore));
    }
    if (hasRecords && !this.servers.includes(this.records)) {
      const items = releases.flatMap((r) =>
        r.record === undefined ? [] : [item({ ...r, token: '' }, true)],
      );
      calls.push(this.#noted(this.records.release.push(items)));
    }
    return Promise.all(calls).then(ignore);
  }

  #noted(stored: Promise<unknown>): Promise<void> {
    return stored.then(
      () => this.health.ok(),
      (err: unknown) => {
        this.health.failed(err, 'write-last-run');
        throw err;
      },
    );
  }
}

const NO_HISTORY = ['', '0', '0'] as const;

/** The RELEASE item of a release (see scripts/release.ts), with its record when `withRecord`. */
function item(r: Release, withRecord: boolean): ScriptItem {
  const record = withRecord ? r.record : undefined;
  if (record === undefined) return { keys: [r.key, r.key, r.key, r.key], args: [r.token, '', ...NO_HISTORY] };
  const h = record.history;
  const key = r.token === '' ? record.key : r.key;
  const value = h?.entry === undefined ? record.value : '';
  const push = h === undefined ? NO_HISTORY : [h.entry ?? '=', String(h.size), String(h.ttlMs)];
  const success = h?.entry === undefined ? (record.successKey ?? record.key) : record.key;
  return { keys: [key, record.key, success, h?.key ?? record.key], args: [r.token, value, ...push] };
}
