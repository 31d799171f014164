/**
 * The rows a batch update is about to change, read in key order without locks.
 *
 * Reading takes no locks (a consistent read, a fresh snapshot per statement), where a `FOR UPDATE`
 * scan under READ COMMITTED locks every row it reads and unlocks those that do not match. The update
 * then names the candidates by key and checks the condition again (see `update-batch.ts`).
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { KeyRangeWalk, toId, type KeyedTable, type KeyRange } from './key-range.js';
import { selectList, type Filter, type RowNames } from './rows.js';

/** Rows of one batch, in key order: at most batch-size. */
export interface Candidates {
  readonly ids: readonly bigint[];
  readonly names: readonly string[];
}

/** Where the candidates come from. */
export interface CandidateSource extends KeyedTable {
  readonly filter: Filter;
  readonly names: RowNames;
}

/** Reads the matching rows of a range with keys from `from`, at most `limit`, without locks. */
async function readPage(
  conn: PoolConnection,
  source: CandidateSource,
  from: bigint,
  range: KeyRange,
  limit: number,
): Promise<RowDataPacket[]> {
  const key = source.key ?? 'id';
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT ${selectList(key, source.names)} FROM \`${source.table}\` WHERE \`${key}\` >= ? AND \`${key}\` < ? AND ${source.filter.sql} ORDER BY \`${key}\` LIMIT ?`,
    [from, range.to, ...source.filter.params, limit],
  );
  return rows;
}

/**
 * The matching rows of the whole table in batches of `batchSize` (the last one smaller): a pass of
 * key ranges (see {@link KeyRangeWalk}), each read in pages that continue after the last key read,
 * so no statement scans more than a range. A batch may take rows from several ranges: a batch costs a
 * commit, so full batches make fewer of them. Every page starts after the one before, so the pass
 * ends whatever the writes do, and batches never depend on what was done with earlier ones: the next
 * one can be read while the previous one is written.
 */
export async function* readCandidates(
  conn: PoolConnection,
  source: CandidateSource,
  batchSize: number,
): AsyncGenerator<Candidates, void, undefined> {
  const key = source.key ?? 'id';
  const walk = await KeyRangeWalk.start(conn, source, batchSize);
  let ids: bigint[] = [];
  let names: string[] = [];
  for (let range = await walk.next(); range !== undefined; range = await walk.next()) {
    let matched = 0;
    for (let from = range.from; ;) {
      const want = batchSize - ids.length;
      const rows = await readPage(conn, source, from, range, want);
      matched += rows.length;
      for (const row of rows) {
        ids.push(toId(row[key]) ?? 0n);
        names.push(source.names.name(row));
      }
      if (ids.length === batchSize) {
        yield { ids, names };
        ids = [];
        names = [];
      }
      const last = toId(rows.at(-1)?.[key]);
      if (rows.length < want || last === undefined) break;
      from = last + 1n;
    }
    walk.record(range, matched);
  }
  if (ids.length > 0) yield { ids, names };
}
