/**
 * The Go original's task algorithm, kept only as the benchmark's baseline (DESIGN §2 lists why it
 * must not ship): load the users into memory, decide in the daemon's clock, and save each inactive
 * user with a full-row UPDATE of its own. A NULL `loginedAt` counts as inactive, as in the original.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';

/** Runs the baseline over the users with `id <= limit`; returns how many it changed. */
export async function goOriginalTask(
  pool: Pool,
  maxInactiveDays: number,
  limit: number,
): Promise<{ changed: number }> {
  const [users] = await pool.query<RowDataPacket[]>('SELECT * FROM user WHERE id <= ?', [limit]);
  const cutoff = Date.now() - maxInactiveDays * 86_400_000;
  let changed = 0;
  for (const u of users) {
    const last = u['loginedAt'] as Date | null;
    if (last !== null && last.getTime() >= cutoff) continue;
    await pool.query(
      `UPDATE user SET instanceID = ?, name = ?, status = 0, nickname = ?, password = ?, email = ?, phone = ?,
         isAdmin = ?, extendShadow = ?, loginedAt = ?, createdAt = ?, updatedAt = NOW() WHERE id = ?`,
      [
        u['instanceID'],
        u['name'],
        u['nickname'],
        u['password'],
        u['email'],
        u['phone'],
        u['isAdmin'],
        u['extendShadow'],
        u['loginedAt'],
        u['createdAt'],
        u['id'],
      ],
    );
    changed += 1;
  }
  return { changed };
}
