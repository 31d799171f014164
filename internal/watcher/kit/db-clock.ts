/**
 * The database's clock, read once per run. Cut-offs come from it, not from the daemon's clock or the
 * run's slot: the apiserver writes the timestamps with the database's clock, and a daemon whose clock
 * is off (or a run that starts late) must not shift what "older than n days" means.
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { UnexpectedResultError } from '../errors.js';

const DAY_SECONDS = 86_400;

/** The database's time when the run began. */
export interface DbClock {
  /** `UNIX_TIMESTAMP()` on the database. */
  readonly nowSeconds: number;
  /**
   * `days` days before {@link nowSeconds}, as Unix seconds. Unix seconds, not
   * `NOW() - INTERVAL n DAY`: compared with `UNIX_TIMESTAMP(column)`, which reads a TIMESTAMP's stored
   * UTC value, neither the session `time_zone` nor the daemon's `TZ` can shift a result, and no
   * daylight-saving day is 23 or 25 hours long.
   */
  daysAgo(days: number): number;
}

/** Reads the database's clock on `conn`. */
export async function readDbClock(conn: PoolConnection): Promise<DbClock> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
  const nowSeconds = Number(rows[0]?.['now']);
  // NULL reads as 0, and no live database clock is at 1970: 0 and below are refused, as NaN is.
  if (!Number.isSafeInteger(nowSeconds) || nowSeconds <= 0)
    throw new UnexpectedResultError(`database returned no usable UNIX_TIMESTAMP(): ${String(nowSeconds)}`);
  return { nowSeconds, daysAgo: (days) => nowSeconds - days * DAY_SECONDS };
}
