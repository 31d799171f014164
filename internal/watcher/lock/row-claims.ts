/**
 * Row claims of status watchers: which replica handles which row of a business table now, how many
 * times a row was tried and when it may be tried again. The business table gets no column for any
 * of it; the coordination backend keeps it, bounded by TTLs (see README, "Writing a status watcher").
 * Every method takes a whole batch of rows: one backend call per batch, never one per row.
 */

/** A row's key as the backend stores it (the key column's value as text). */
export type RowId = string;

/** What a status watcher's replicas share in the backend, per watcher. */
export interface RowClaims {
  /**
   * Claims the rows nobody holds and whose retry time has come, for `leaseMs`.
   * @returns the attempt number (1 for a first try) of each row this replica got; others are absent.
   */
  claim(ids: readonly RowId[], leaseMs: number): Promise<Map<RowId, number>>;
  /**
   * Extends this replica's claims to a full lease again; a claim that expired and that nobody else
   * took is taken again. @returns the rows this replica holds now (the others were taken by another).
   */
  extend(ids: readonly RowId[], leaseMs: number): Promise<Set<RowId>>;
  /**
   * Gives claims back (deletes those this replica holds); a later claim counts on from the rows'
   * attempt records.
   */
  release(ids: readonly RowId[]): Promise<void>;
  /**
   * The rows' handlers are done and their final status is written next: checks that each claim is
   * still this replica's and keeps it for `holdMs` as the row's tombstone, so that a replica that read
   * the row while it was still to do (a read older than the final UPDATE) cannot claim and handle it
   * again; the rows' attempt records go. @returns the rows this replica may move to their final status
   * (the others are held by another replica now).
   */
  settle(ids: readonly RowId[], holdMs: number): Promise<Set<RowId>>;
  /** The rows' final UPDATE is written: they leave the index of rows that will need a look. */
  settled(ids: readonly RowId[]): Promise<void>;
  /**
   * Records a failed attempt and gives the claim back: the row may be claimed again after
   * `delayMs`; the record lives `keepMs` (then the row counts from attempt 1 again).
   */
  retryLater(id: RowId, attempt: number, delayMs: number, keepMs: number): Promise<void>;
  /**
   * Claims up to `most` rows that need a look now and that nobody holds: rows whose holder's claim
   * expired (a dead or stalled replica) and rows whose retry time has come. Found in the backend's
   * index, without reading the table. @returns the attempt number of each row claimed.
   */
  due(most: number, leaseMs: number): Promise<Map<RowId, number>>;
  /** Of these rows, those a claim would take now (read only: for `run --dry-run`). */
  claimable(ids: readonly RowId[]): Promise<Set<RowId>>;
  /** Adds to the watcher's cluster-wide counters (`done`, `failed`, ...) and stores the latest sample. */
  record(counts: Readonly<Record<string, number>>, sample?: Readonly<Record<string, string>>): Promise<void>;
  /** The cluster-wide counters and latest sample (for `status`). */
  stats(): Promise<Record<string, string>>;
  /**
   * Whether this replica takes the next sample of the waiting rows: at most one replica of the
   * cluster per `everyMs` counts them in the table; the others read its sample ({@link stats}).
   */
  sampleTurn(everyMs: number): Promise<boolean>;
}

/** Backend key names of one status watcher's rows, all under `lock.key-prefix`, in one hash slot. */
export interface RowKeyNames {
  claim(id: RowId): string;
  retry(id: RowId): string;
  /** Sorted set of row ids by the time each needs a look (claim expiry, retry time). */
  readonly index: string;
  readonly stats: string;
  /** Who took the latest sample (expires after the poll interval). */
  readonly sampler: string;
  /** The prefixes of claim and retry keys (the id follows). */
  readonly claimPrefix: string;
  readonly retryPrefix: string;
}

/** The row keys of `watcher` under `prefix` (a `:` is added when missing). */
export function rowKeyNames(prefix: string, watcher: string): RowKeyNames {
  const p = prefix === '' || prefix.endsWith(':') ? prefix : `${prefix}:`;
  // The watcher in a hash tag: one script may touch all of one watcher's row keys on Redis Cluster.
  const base = `${p}rows:{${watcher}}:`;
  return {
    claim: (id) => `${base}claim:${id}`,
    retry: (id) => `${base}retry:${id}`,
    index: `${base}index`,
    stats: `${base}stats`,
    sampler: `${base}sampler`,
    claimPrefix: `${base}claim:`,
    retryPrefix: `${base}retry:`,
  };
}
