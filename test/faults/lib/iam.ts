/**
 * IAM rows for the faults that run the real `clean` and `task` watchers: old and young
 * `policy_audit` rows, inactive and active users, and counts read back from the database.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';

const DAY_S = 86_400;

/**
 * Inserts `old` audit rows (ids 1..old, deleted 400 days ago) and `young` ones after them (deleted
 * yesterday). With the old rows on contiguous ids, every batch of `clean` deletes exactly
 * `batch-size` rows, so a count that is not a multiple of it means a half-applied batch.
 */
export async function seedAudit(pool: Pool, old: number, young: number): Promise<void> {
  const shadow = 'x'.repeat(200);
  const chunk = 1000;
  for (let from = 1; from <= old + young; from += chunk) {
    const rows: unknown[][] = [];
    for (let id = from; id < from + chunk && id <= old + young; id++) {
      const ageDays = id <= old ? 400 : 1;
      rows.push([id, `p${id}`, 'faults', shadow, ageDays]);
    }
    await pool.query(
      'INSERT INTO `policy_audit` (`id`, `name`, `username`, `policyShadow`, `deletedAt`) VALUES ' +
        rows.map(() => '(?, ?, ?, ?, FROM_UNIXTIME(UNIX_TIMESTAMP() - ? * 86400))').join(','),
      rows.flat(),
    );
  }
}

/** Old and young audit rows left. */
export async function auditCounts(pool: Pool): Promise<{ old: number; young: number }> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT SUM(UNIX_TIMESTAMP(`deletedAt`) < UNIX_TIMESTAMP() - 180 * ?) AS old, ' +
      'SUM(UNIX_TIMESTAMP(`deletedAt`) >= UNIX_TIMESTAMP() - 180 * ?) AS young FROM `policy_audit`',
    [DAY_S, DAY_S],
  );
  return { old: Number(rows[0]?.['old'] ?? 0), young: Number(rows[0]?.['young'] ?? 0) };
}

/**
 * Inserts `inactive` enabled users (last login 400 days ago, ids 1..inactive) and `active` ones
 * after them (logged in today).
 */
export async function seedUsers(pool: Pool, inactive: number, active: number): Promise<void> {
  const chunk = 1000;
  for (let from = 1; from <= inactive + active; from += chunk) {
    const rows: unknown[][] = [];
    for (let id = from; id < from + chunk && id <= inactive + active; id++) {
      rows.push([id, `u${id}`, 'n', 'pw', `u${id}@example.com`, id <= inactive ? 400 : 0]);
    }
    await pool.query(
      'INSERT INTO `user` (`id`, `name`, `nickname`, `password`, `email`, `status`, `loginedAt`, `createdAt`) VALUES ' +
        rows
          .map(
            () =>
              '(?, ?, ?, ?, ?, 1, FROM_UNIXTIME(UNIX_TIMESTAMP() - ? * 86400), FROM_UNIXTIME(UNIX_TIMESTAMP() - 500 * 86400))',
          )
          .join(','),
      rows.flat(),
    );
  }
}

/** Users still enabled: inactive ones (ids <= `inactive`) and the others. */
export async function enabledUsers(
  pool: Pool,
  inactive: number,
): Promise<{ inactive: number; active: number }> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT SUM(`id` <= ? AND `status` = 1) AS i, SUM(`id` > ? AND `status` = 1) AS a FROM `user`',
    [inactive, inactive],
  );
  return { inactive: Number(rows[0]?.['i'] ?? 0), active: Number(rows[0]?.['a'] ?? 0) };
}
