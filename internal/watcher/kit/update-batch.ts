/**
 * One batch of the update recipe: change the candidates that still match, and name exactly the rows
 * changed.
 *
 * The update names the candidates by key and checks the condition again, so a row that changed
 * since it was read (a user who logged in) is not touched. When every candidate still matched, the
 * changed set is exactly the candidates, and so are the names; when not, the batch is rolled back and
 * redone under row locks (rare: the rows changed in the milliseconds between read and update).
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { UnexpectedResultError } from '../errors.js';
import type { Candidates } from './candidates.js';
import { toId, type KeyedTable } from './key-range.js';
import { selectList, type Filter, type RowNames } from './rows.js';
import type { Session } from './transaction.js';

/** What a batch changes and how. */
export interface UpdateTarget extends KeyedTable {
  readonly filter: Filter;
  /** The assignments (trusted text): `` `status` = 0 ``. */
  readonly set: string;
  readonly names: RowNames;
}

/** The outcome of {@link updateBatch}. */
export interface Updated {
  /** Names of the rows changed, in key order: exactly the rows this batch changed. */
  readonly names: readonly string[];
  /** True when some candidate had changed since it was read and the batch was redone under locks. */
  readonly redone: boolean;
}

/** Thrown inside the optimistic transaction to roll it back. */
class CandidatesChanged extends Error {}

/** `UPDATE` of the rows `ids` that still match; returns the number matched. */
async function update(conn: PoolConnection, target: UpdateTarget, ids: readonly bigint[]): Promise<number> {
  const [result] = await conn.query<ResultSetHeader>(
    `UPDATE \`${target.table}\` SET ${target.set} WHERE \`${target.key ?? 'id'}\` IN (?) AND ${target.filter.sql}`,
    [ids, ...target.filter.params],
  );
  return result.affectedRows;
}

/** Changes the candidates that still match, in one transaction of `session`; see the file comment. */
export async function updateBatch(
  session: Session,
  target: UpdateTarget,
  batch: Candidates,
): Promise<Updated> {
  try {
    await session.transaction(async (conn) => {
      // Each key is in the list once, so matching as many rows as there are keys matches them all.
      if ((await update(conn, target, batch.ids)) !== batch.ids.length) throw new CandidatesChanged();
    });
    return { names: batch.names, redone: false };
  } catch (err) {
    if (!(err instanceof CandidatesChanged)) throw err;
  }
  const key = target.key ?? 'id';
  const names = await session.transaction(async (conn) => {
    const [locked] = await conn.query<RowDataPacket[]>(
      `SELECT ${selectList(key, target.names)} FROM \`${target.table}\` WHERE \`${key}\` IN (?) AND ${target.filter.sql} ORDER BY \`${key}\` FOR UPDATE`,
      [batch.ids, ...target.filter.params],
    );
    if (locked.length === 0) return [];
    const ids = locked.map((row) => toId(row[key]) ?? 0n);
    const changed = await update(conn, target, ids);
    if (changed !== locked.length) {
      throw new UnexpectedResultError(`changed ${changed} of ${locked.length} locked rows; rolled back`);
    }
    return locked.map(target.names.name);
  });
  return { names, redone: true };
}
