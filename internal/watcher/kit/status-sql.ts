/**
 * The statements of the status recipe: read a batch of to-do rows after a key, sample how many wait,
 * and the guarded final UPDATE. Identifiers come from the watcher's definition (checked by
 * {@link checkStatusTable}), values always go as parameters.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { WatcherDefinitionError } from '../errors.js';
import type { StatusRow, StatusTable } from './status-spec.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** @throws WatcherDefinitionError naming the first bad part of a status watcher's table (a bug). */
export function checkStatusTable(watcher: string, t: StatusTable): void {
  const idents: Array<[string, string | undefined]> = [
    ['table', t.table],
    ['key', t.key],
    ['statusColumn', t.statusColumn],
    ['since', t.since],
  ];
  for (const [what, v] of idents) {
    if (v !== undefined && !IDENT.test(v)) {
      throw new WatcherDefinitionError(
        `status watcher "${watcher}": ${what} ${JSON.stringify(v)} is no plain SQL name`,
      );
    }
  }
  if (t.todo.length === 0)
    throw new WatcherDefinitionError(`status watcher "${watcher}": todo lists no value`);
  for (const v of [t.done, t.failed]) {
    if (v !== undefined && t.todo.includes(v)) {
      throw new WatcherDefinitionError(
        `status watcher "${watcher}": ${JSON.stringify(v)} is both a to-do and a final value`,
      );
    }
  }
}

const q = (ident: string): string => `\`${ident}\``;

/** The statements of one table. */
export class StatusSql {
  readonly #todoWhere: string;

  constructor(
    private readonly db: Pool,
    private readonly t: StatusTable,
  ) {
    this.#todoWhere = `${q(t.statusColumn)} IN (?)${t.where ? ` AND (${t.where})` : ''}`;
  }

  /** Up to `limit` to-do rows with a key above `after` (from the start when undefined), in key order. */
  async scan(after: unknown, limit: number): Promise<StatusRow[]> {
    const k = q(this.t.key);
    const from = after === undefined ? '' : ` AND ${k} > ?`;
    const params: unknown[] = [this.t.todo];
    if (after !== undefined) params.push(after);
    params.push(limit);
    const [rows] = await this.db.query<RowDataPacket[]>(
      `SELECT * FROM ${q(this.t.table)} WHERE ${this.#todoWhere}${from} ORDER BY ${k} LIMIT ?`,
      params,
    );
    return rows;
  }

  /** The rows of these keys that are still to do. */
  async byKeys(keys: readonly unknown[]): Promise<StatusRow[]> {
    if (keys.length === 0) return [];
    const [rows] = await this.db.query<RowDataPacket[]>(
      `SELECT * FROM ${q(this.t.table)} WHERE ${this.#todoWhere} AND ${q(this.t.key)} IN (?)`,
      [this.t.todo, keys],
    );
    return rows;
  }

  /** The lowest and highest key of the to-do rows (undefined when none or not numbers). */
  async keyRange(): Promise<{ min: number; max: number } | undefined> {
    const k = q(this.t.key);
    const [rows] = await this.db.query<RowDataPacket[]>({
      sql: `SELECT MIN(${k}), MAX(${k}) FROM ${q(this.t.table)} WHERE ${this.#todoWhere}`,
      values: [this.t.todo],
      rowsAsArray: true,
    });
    const [min, max] = (rows[0] ?? []) as unknown as [unknown, unknown];
    return typeof min === 'number' && typeof max === 'number' ? { min, max } : undefined;
  }

  /** How many rows wait, and how old the oldest is by the database clock (null without `since`). */
  async sample(): Promise<{ waiting: number; oldestAgeS: number | null }> {
    const age = this.t.since
      ? `, UNIX_TIMESTAMP(NOW(3)) - UNIX_TIMESTAMP(MIN(${q(this.t.since)}))`
      : ', NULL';
    const [rows] = await this.db.query<RowDataPacket[]>({
      sql: `SELECT COUNT(*)${age} FROM ${q(this.t.table)} WHERE ${this.#todoWhere}`,
      values: [this.t.todo],
      rowsAsArray: true,
    });
    const [n, a] = (rows[0] ?? [0, null]) as unknown as [number | string, number | string | null];
    return { waiting: Number(n), oldestAgeS: a === null ? null : Math.max(0, Number(a)) };
  }

  /**
   * Moves the rows that are still to do to `value`, in one statement. @returns how many moved: a
   * row another writer already moved is not moved again (the guard is what makes it exactly once).
   */
  async finish(keys: readonly unknown[], value: string): Promise<number> {
    if (keys.length === 0) return 0;
    const [r] = await this.db.query<ResultSetHeader>(
      `UPDATE ${q(this.t.table)} SET ${q(this.t.statusColumn)} = ? WHERE ${q(this.t.key)} IN (?) AND ${q(this.t.statusColumn)} IN (?)`,
      [value, keys, this.t.todo],
    );
    return r.affectedRows;
  }
}
