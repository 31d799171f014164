/**
 * The one release path, for everything the coordinator gives back: a lease at the end of its run, a
 * slot claim given back at shutdown, the keys a lost or split vote holds on some servers, a lease
 * taken too late to be valid; and, riding along, the last-run record of a run.
 */
import type { BackendHealth } from './backend-health.js';
import type { LockServer } from './servers.js';

/** A record to store: a last-run record (JSON) under its key. */
export interface StoredRecord {
  readonly key: string;
  readonly value: string;
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
   * Deletes `key` on every lock server where it still holds `token` (`''` = delete nothing), and
   * stores `record` on the records server: in the same script item when that is a lock server (the
   * usual single server), so a run's end is one item. Only a record not stored rejects (and counts
   * as a backend failure); a key not deleted expires with its lease or claim.
   */
  release(key: string, token: string, record?: StoredRecord): Promise<void> {
    const drops: Promise<unknown>[] = [];
    let stored: Promise<unknown> | undefined;
    if (token !== '') {
      for (const s of this.servers) {
        if (record !== undefined && s === this.records)
          stored = s.release.push([key, record.key], [token, record.value]);
        else drops.push(s.release.push([key, key], [token, '']).catch(ignore));
      }
    }
    if (record !== undefined && stored === undefined)
      stored = this.records.release.push([record.key, record.key], ['', record.value]);
    if (stored !== undefined) drops.push(this.#noted(stored));
    return Promise.all(drops).then(ignore);
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
