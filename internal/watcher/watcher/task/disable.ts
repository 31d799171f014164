/**
 * The two halves of a `task` batch: reading the candidates of the next batch, and disabling them.
 *
 * Reading takes no locks (a consistent read, a fresh snapshot per statement), where a `FOR UPDATE`
 * scan under READ COMMITTED locks every row it reads and unlocks those that do not match. The update
 * then names the candidates by primary key and checks the predicate again, so a user who logged in
 * (or was changed) since the read is not touched. When every candidate was changed, the changed set
 * is exactly the candidates, and so are the logged names; when not, the batch is rolled back and
 * redone under row locks (rare: the rows changed in the milliseconds between read and update).
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { KeyRangeWalk, toId } from '../batch.js';
import type { KeyRange, TransactionChain } from '../batch.js';

/** An SQL condition on `user` and its parameters. */
export interface Filter {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** Users of one batch, in id order: at most batch-size. */
export interface Candidates {
  readonly ids: readonly bigint[];
  readonly names: readonly string[];
}

interface UserRow extends RowDataPacket {
  id: number | string;
  name: string;
}

/** Reads the matching users of a range with ids from `from`, at most `limit`, without locks. */
async function readPage(
  conn: PoolConnection,
  filter: Filter,
  from: bigint,
  range: KeyRange,
  limit: number,
): Promise<UserRow[]> {
  const [rows] = await conn.query<UserRow[]>(
    `SELECT \`id\`, \`name\` FROM \`user\` WHERE \`id\` >= ? AND \`id\` < ? AND ${filter.sql} ORDER BY \`id\` LIMIT ?`,
    [from, range.to, ...filter.params, limit],
  );
  return rows;
}

/**
 * The matching users of the whole table in batches of `batchSize` (the last one smaller): a pass of
 * key ranges (see {@link KeyRangeWalk}), each read in pages that continue after the last id read, so
 * no statement scans more than a range. A batch may take users from several ranges: a batch costs a
 * commit, so full batches make fewer of them. Batches never depend on what was done with earlier
 * ones, so the next one can be read while the previous one is written.
 */
export async function* readCandidates(
  conn: PoolConnection,
  filter: Filter,
  batchSize: number,
): AsyncGenerator<Candidates, void, undefined> {
  const walk = await KeyRangeWalk.start(conn, 'user', batchSize);
  let ids: bigint[] = [];
  let names: string[] = [];
  for (let range = await walk.next(); range !== undefined; range = await walk.next()) {
    let matched = 0;
    for (let from = range.from; ;) {
      const want = batchSize - ids.length;
      const rows = await readPage(conn, filter, from, range, want);
      matched += rows.length;
      for (const u of rows) {
        ids.push(toId(u.id) ?? 0n);
        names.push(u.name);
      }
      if (ids.length === batchSize) {
        yield { ids, names };
        ids = [];
        names = [];
      }
      const last = toId(rows.at(-1)?.id);
      if (rows.length < want || last === undefined) break;
      from = last + 1n;
    }
    walk.record(range, matched);
  }
  if (ids.length > 0) yield { ids, names };
}

/** The outcome of {@link disable}. */
export interface Disabled {
  /** Names of the users disabled, in id order: exactly the rows this batch changed. */
  readonly names: readonly string[];
  /** True when some candidate had changed since it was read and the batch was redone under locks. */
  readonly redone: boolean;
}

/** Thrown inside the optimistic transaction to roll it back. */
class CandidatesChanged extends Error {}

/** `UPDATE` of the users `ids` that still match; returns the number changed. */
async function update(conn: PoolConnection, ids: readonly bigint[], filter: Filter): Promise<number> {
  const [result] = await conn.query<ResultSetHeader>(
    `UPDATE \`user\` SET \`status\` = 0 WHERE \`id\` IN (?) AND ${filter.sql}`,
    [ids, ...filter.params],
  );
  return result.affectedRows;
}

/**
 * Disables the candidates that still match `filter`, in one transaction of `chain` (on `conn`), and
 * names exactly the users it changed. Only `status` changes (1 to 0, the filter requires 1).
 */
export async function disable(
  conn: PoolConnection,
  chain: TransactionChain,
  batch: Candidates,
  filter: Filter,
): Promise<Disabled> {
  try {
    await chain.run(async () => {
      // Each id is in the list once, so changing as many rows as there are ids changes them all.
      if ((await update(conn, batch.ids, filter)) !== batch.ids.length) throw new CandidatesChanged();
    });
    return { names: batch.names, redone: false };
  } catch (err) {
    if (!(err instanceof CandidatesChanged)) throw err;
  }
  const names = await chain.run(async () => {
    const [locked] = await conn.query<UserRow[]>(
      `SELECT \`id\`, \`name\` FROM \`user\` WHERE \`id\` IN (?) AND ${filter.sql} ORDER BY \`id\` FOR UPDATE`,
      [batch.ids, ...filter.params],
    );
    if (locked.length === 0) return [];
    const changed = await update(
      conn,
      locked.map((u) => toId(u.id) ?? 0n),
      filter,
    );
    if (changed !== locked.length) {
      throw new Error(`disabled ${changed} of ${locked.length} locked users; rolled back`);
    }
    return locked.map((u) => u.name);
  });
  return { names, redone: true };
}
