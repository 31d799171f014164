/**
 * Measures ways of running one `task` batch against each other and the one-statement floor, on the
 * watchers benchmark's users, restored between runs and interleaved so that load from other processes
 * falls on every variant alike. A tool for choosing the task watcher's statements, not part of
 * `make bench`.
 *
 * Variants: `floor` (one UPDATE), `watcher` (the task watcher as it is), `locking` (candidates locked
 * with SELECT ... FOR UPDATE, then updated by id: the watcher before the read/write split),
 * `optimistic` and `optimisticRange` (candidates read without locks, updated by id with the predicate
 * checked again), `collecting` and `concat` (one UPDATE per range whose SET expression gathers the
 * changed names in a user variable: exact, but the string grows quadratically and MySQL deprecates
 * the idiom), `blind` (one UPDATE per range, no names: the bound of any ranged approach), `keyset`,
 * `pipelined` and `twoWriters` (unlocked reads in keyset pages on one connection, writes on one or
 * two others).
 *
 * Run: `BENCH_ROWS=100000 BENCH_REPEAT=5 node --import tsx test/bench/watchers-task-variants.ts`
 * (BENCH_VARIANTS=a,b limits the variants; BENCH_BATCH_SIZE as the main benchmark; BENCH_VERBOSE=1
 * prints time per statement kind; BENCH_MYSQLD_PID=$(pgrep -x mariadbd) prints the server's CPU time
 * per run).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { rangeCondition } from '../../internal/watcher/kit/key-range.js';
import type { KeyRange } from '../../internal/watcher/kit/key-range.js';
import { forEachKeyRange } from '../../internal/watcher/kit/range-loop.js';
import { Session } from '../../internal/watcher/kit/transaction.js';
import { taskWatcher } from '../../internal/watcher/watcher/task/watcher.js';
import { createTestDatabase } from '../helpers/mysql.js';
import { testRunContext } from '../helpers/watcher-run.js';
import { generateUsers, restoreUsers, settle } from './watchers.js';

const DAYS = 90;

/** CPU seconds mysqld has used so far (BENCH_MYSQLD_PID), or NaN. */
function mysqldCpu(): number {
  const pid = process.env['BENCH_MYSQLD_PID'];
  if (!pid) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const PREDICATE =
  '`status` = 1 AND `isAdmin` = 0 AND COALESCE(UNIX_TIMESTAMP(`loginedAt`), UNIX_TIMESTAMP(`createdAt`)) < ?';

/** One READ COMMITTED transaction per batch, begun and committed on its own (the variants' idiom). */
async function inTransaction<T>(conn: PoolConnection, fn: () => Promise<T>): Promise<T> {
  await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
  await conn.beginTransaction();
  try {
    const result = await fn();
    await conn.commit();
    return result;
  } catch (err) {
    await conn.rollback();
    throw err;
  }
}

type Batch = (conn: PoolConnection, range: KeyRange, cutoff: number, limit: number) => Promise<number>;

interface Candidate extends RowDataPacket {
  id: number;
  name: string;
}

function select(range: KeyRange): { sql: string; params: unknown[] } {
  const r = rangeCondition(range);
  return {
    sql: `SELECT \`id\`, \`name\` FROM \`user\` WHERE ${r.sql} AND ${PREDICATE} ORDER BY \`id\` LIMIT ?`,
    params: r.params,
  };
}

/** Lock the candidates, then update them by id (the watcher before this change). */
const locking: Batch = (conn, range, cutoff, limit) =>
  inTransaction(conn, async () => {
    const s = select(range);
    const [rows] = await conn.query<Candidate[]>(`${s.sql} FOR UPDATE`, [...s.params, cutoff, limit]);
    if (rows.length === 0) return 0;
    const [r] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = 0 WHERE \`id\` IN (?) AND ${PREDICATE}`,
      [rows.map((u) => u.id), cutoff],
    );
    if (r.affectedRows !== rows.length) throw new Error('mismatch');
    return rows.length;
  });

/** Read the candidates without locks, update them by id with the predicate checked again. */
const optimistic: Batch = (conn, range, cutoff, limit) =>
  inTransaction(conn, async () => {
    const s = select(range);
    const [rows] = await conn.query<Candidate[]>(s.sql, [...s.params, cutoff, limit]);
    if (rows.length === 0) return 0;
    const [r] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = 0 WHERE \`id\` IN (?) AND ${PREDICATE}`,
      [rows.map((u) => u.id), cutoff],
    );
    if (r.affectedRows !== rows.length) throw new Error('mismatch');
    return rows.length;
  });

/** As optimistic, but the UPDATE also bounded by the range (lets the optimizer scan the range). */
const optimisticRange: Batch = (conn, range, cutoff, limit) =>
  inTransaction(conn, async () => {
    const s = select(range);
    const [rows] = await conn.query<Candidate[]>(s.sql, [...s.params, cutoff, limit]);
    if (rows.length === 0) return 0;
    const last = rows.at(-1)?.id ?? 0;
    const [r] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = 0 WHERE \`id\` >= ? AND \`id\` <= ? AND \`id\` IN (?) AND ${PREDICATE}`,
      [range.from, last, rows.map((u) => u.id), cutoff],
    );
    if (r.affectedRows !== rows.length) throw new Error('mismatch');
    return rows.length;
  });

/** One UPDATE of the range; the SET expression collects the names of exactly the rows it changes. */
const collecting: Batch = (conn, range, cutoff, limit) =>
  inTransaction(conn, async () => {
    const r = rangeCondition(range);
    await conn.query('SET @names = JSON_ARRAY()');
    const [res] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = IF((@names := JSON_ARRAY_APPEND(@names, '$', \`name\`)) IS NULL, 0, 0)
         WHERE ${r.sql} AND ${PREDICATE} ORDER BY \`id\` LIMIT ?`,
      [...r.params, cutoff, limit],
    );
    const [got] = await conn.query<RowDataPacket[]>('SELECT @names AS names');
    const names = JSON.parse(String(got[0]?.['names'])) as string[];
    if (names.length !== res.affectedRows) throw new Error('mismatch');
    return names.length;
  });

/** As collecting, with the names as a comma-separated list of JSON strings (linear, not quadratic). */
const concat: Batch = (conn, range, cutoff, limit) =>
  inTransaction(conn, async () => {
    const r = rangeCondition(range);
    await conn.query('SET @names = NULL');
    const [res] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = IF((@names := CONCAT_WS(',', @names, JSON_QUOTE(\`name\`))) IS NULL, 0, 0)
         WHERE ${r.sql} AND ${PREDICATE} ORDER BY \`id\` LIMIT ?`,
      [...r.params, cutoff, limit],
    );
    const [got] = await conn.query<RowDataPacket[]>('SELECT @names AS names');
    const names = JSON.parse(`[${String(got[0]?.['names'] ?? '')}]`) as string[];
    if (names.length !== res.affectedRows) throw new Error('mismatch');
    return names.length;
  });

/** One UPDATE of the range without names: the lower bound of any ranged approach. */
const blind: Batch = (conn, range, cutoff, limit) =>
  inTransaction(conn, async () => {
    const r = rangeCondition(range);
    const [res] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = 0 WHERE ${r.sql} AND ${PREDICATE} ORDER BY \`id\` LIMIT ?`,
      [...r.params, cutoff, limit],
    );
    return res.affectedRows;
  });

const BATCHES: Record<string, Batch> = { locking, optimistic, optimisticRange, collecting, concat, blind };

interface Chunk {
  ids: number[];
  names: string[];
}

/** Candidate chunks (<= batchSize), read without locks, range by range with keyset pages. */
async function* candidates(conn: PoolConnection, cutoff: number, batchSize: number): AsyncGenerator<Chunk> {
  const [b] = await conn.query<RowDataPacket[]>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM user');
  const hi = Number(b[0]?.['hi']);
  let from = Number(b[0]?.['lo']);
  let span = batchSize;
  while (from <= hi) {
    const to = Math.min(from + span, hi + 1);
    let after = from - 1;
    let matched = 0;
    for (;;) {
      const [rows] = await conn.query<Candidate[]>(
        `SELECT \`id\`, \`name\` FROM \`user\` WHERE \`id\` > ? AND \`id\` < ? AND ${PREDICATE} ORDER BY \`id\` LIMIT ?`,
        [after, to, cutoff, batchSize],
      );
      matched += rows.length;
      if (rows.length > 0) yield { ids: rows.map((r) => r.id), names: rows.map((r) => r.name) };
      if (rows.length < batchSize) break;
      after = rows.at(-1)?.id ?? to;
    }
    if (to > hi) break;
    span = Math.min(
      16 * batchSize,
      Math.max(batchSize, matched === 0 ? span * 2 : Math.floor((span * batchSize * 0.8) / matched)),
    );
    if (matched > 0) from = to;
    else {
      const [n] = await conn.query<RowDataPacket[]>('SELECT MIN(id) AS id FROM user WHERE id >= ?', [to]);
      if (n[0]?.['id'] === null) break;
      from = Number(n[0]?.['id']);
    }
  }
}

async function write(conn: PoolConnection, chunk: Chunk, cutoff: number): Promise<number> {
  return inTransaction(conn, async () => {
    const [r] = await conn.query<ResultSetHeader>(
      `UPDATE \`user\` SET \`status\` = 0 WHERE \`id\` IN (?) AND ${PREDICATE}`,
      [chunk.ids, cutoff],
    );
    if (r.affectedRows !== chunk.ids.length) throw new Error('mismatch');
    return r.affectedRows;
  });
}

type Walk = (
  read: PoolConnection,
  write: PoolConnection,
  cutoff: number,
  batchSize: number,
) => Promise<number>;

/** Read a chunk, write it, read the next. */
const keyset: Walk = async (r, w, cutoff, batchSize) => {
  let n = 0;
  for await (const chunk of candidates(r, cutoff, batchSize)) n += await write(w, chunk, cutoff);
  return n;
};

/** Read the next chunk on one connection while the previous one is written on another. */
const pipelined: Walk = async (r, w, cutoff, batchSize) => {
  let n = 0;
  const it = candidates(r, cutoff, batchSize);
  let next = it.next();
  for (;;) {
    const cur = await next;
    if (cur.done) break;
    next = it.next();
    n += await write(w, cur.value, cutoff);
  }
  return n;
};

/** As pipelined, with two writers taking turns, so that one commits while the other updates. */
const twoWriters = async (
  r: PoolConnection,
  ws: PoolConnection[],
  cutoff: number,
  batchSize: number,
): Promise<number> => {
  let n = 0;
  const pending: Array<Promise<number> | undefined> = ws.map(() => undefined);
  let i = 0;
  for await (const chunk of candidates(r, cutoff, batchSize)) {
    const slot = i++ % ws.length;
    const w = ws[slot];
    if (!w) throw new Error('no writer');
    if (pending[slot]) n += await pending[slot];
    pending[slot] = write(w, chunk, cutoff);
  }
  for (const p of pending) if (p) n += await p;
  return n;
};

const WALKS: Record<string, Walk> = { keyset, pipelined };

async function main(): Promise<void> {
  const rows = Number(process.env['BENCH_ROWS'] ?? 100_000);
  const repeat = Number(process.env['BENCH_REPEAT'] ?? 3);
  const batchSize = Number(process.env['BENCH_BATCH_SIZE'] ?? 1000);
  const names = (
    process.env['BENCH_VARIANTS'] ??
    `floor,watcher,${[...Object.keys(BATCHES), ...Object.keys(WALKS), 'twoWriters'].join(',')}`
  ).split(',');
  const db = await createTestDatabase();
  const logger = pino({ level: 'silent' });
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  try {
    await generateUsers(db.pool, rows);
    for (let i = 0; i < repeat; i++) {
      for (const name of i % 2 === 0 ? names : [...names].reverse()) {
        await restoreUsers(db.pool);
        await settle(db.pool, 'user');
        const t = performance.now();
        const cpu0 = mysqldCpu();
        const own0 = process.cpuUsage();
        let changed: number;
        if (name === 'floor') {
          const [r] = await db.pool.query<ResultSetHeader>(`UPDATE user SET status = 0 WHERE ${PREDICATE}`, [
            Math.floor(Date.now() / 1000) - DAYS * 86_400,
          ]);
          changed = r.affectedRows;
        } else if (name === 'watcher') {
          const byKind = new Map<string, number>();
          const getConnection = db.pool.getConnection.bind(db.pool);
          if (process.env['BENCH_VERBOSE']) {
            let n = 0;
            db.pool.getConnection = async () => {
              const conn = await getConnection();
              const tag = `c${n++}`;
              const query = conn.query.bind(conn);
              const commit = conn.commit.bind(conn);
              const timed = async <T>(kind: string, p: Promise<T>): Promise<T> => {
                const t0 = performance.now();
                try {
                  return await p;
                } finally {
                  const k = `${tag} ${kind}`;
                  byKind.set(k, (byKind.get(k) ?? 0) + performance.now() - t0);
                }
              };
              conn.query = ((sql: string, values?: unknown[]) =>
                timed(sql.replace(/\s+/g, ' ').slice(0, 24), query(sql, values))) as typeof conn.query;
              conn.commit = () => timed('COMMIT', commit());
              const release = conn.release.bind(conn);
              conn.release = () => {
                conn.query = query;
                conn.commit = commit;
                conn.release = release;
                release();
              };
              return conn;
            };
          }
          const { ctx, counted } = testRunContext(taskWatcher, db.pool, {
            options: { maxInactiveDays: DAYS },
            batchSize,
          });
          await taskWatcher.run(ctx);
          changed = Number(counted['disabled']);
          db.pool.getConnection = getConnection;
          if (byKind.size > 0)
            console.log(Object.fromEntries([...byKind].map(([k, ms]) => [k, Math.round(ms)])));
        } else if (name === 'twoWriters') {
          const r = await db.pool.getConnection();
          const ws = [await db.pool.getConnection(), await db.pool.getConnection()];
          try {
            const [now] = await r.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
            changed = await twoWriters(r, ws, Number(now[0]?.['now']) - DAYS * 86_400, batchSize);
          } finally {
            r.release();
            for (const w of ws) w.release();
          }
        } else if (WALKS[name]) {
          const r = await db.pool.getConnection();
          const w = await db.pool.getConnection();
          try {
            const [now] = await r.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
            changed = await WALKS[name](r, w, Number(now[0]?.['now']) - DAYS * 86_400, batchSize);
          } finally {
            r.release();
            w.release();
          }
        } else {
          const batch = BATCHES[name];
          if (!batch) throw new Error(`unknown variant ${name}`);
          const conn = await db.pool.getConnection();
          const byKind = new Map<string, number>();
          const query = conn.query.bind(conn);
          const commit = conn.commit.bind(conn);
          const timed = async <T>(kind: string, p: Promise<T>): Promise<T> => {
            const t0 = performance.now();
            try {
              return await p;
            } finally {
              byKind.set(kind, (byKind.get(kind) ?? 0) + performance.now() - t0);
            }
          };
          conn.query = ((sql: string, values?: unknown[]) =>
            timed(sql.replace(/\s+/g, ' ').slice(0, 24), query(sql, values))) as typeof conn.query;
          conn.commit = () => timed('COMMIT', commit());
          try {
            const [now] = await conn.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() AS now');
            const cutoff = Number(now[0]?.['now']) - DAYS * 86_400;
            const session = await Session.begin(conn);
            const totals = await forEachKeyRange({
              sessions: [session],
              table: { table: 'user' },
              batchSize,
              dryRun: false,
              signal: new AbortController().signal,
              logger,
              each: (_session, range, limit) => batch(conn, range, cutoff, limit ?? batchSize),
            });
            await session.end();
            changed = totals.rows;
            if (process.env['BENCH_VERBOSE'])
              console.log(Object.fromEntries([...byKind].map(([k, ms]) => [k, Math.round(ms)])));
          } finally {
            conn.query = query;
            conn.commit = commit;
            conn.release();
          }
        }
        const s = (performance.now() - t) / 1000;
        const own = process.cpuUsage(own0);
        const cpu = `mysqld cpu ${(mysqldCpu() - cpu0).toFixed(2)} s, node cpu ${((own.user + own.system) / 1e6).toFixed(2)} s`;
        times.get(name)?.push(s);
        console.log(cpu);
        console.log(
          `${name.padEnd(16)} ${s.toFixed(3)} s  changed ${changed}  load ${loadavg()[0]?.toFixed(2)}`,
        );
      }
    }
  } finally {
    await db.drop();
  }
  const floor = median(times.get('floor') ?? []);
  console.log(
    `\n${rows} users, batch-size ${batchSize}, ${repeat} runs each; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const [name, ts] of times) {
    const m = median(ts);
    console.log(
      `${name.padEnd(16)} median ${m.toFixed(3)} s  min ${Math.min(...ts).toFixed(3)}  max ${Math.max(...ts).toFixed(3)}` +
        (floor ? `  x floor ${(m / floor).toFixed(2)}` : ''),
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

await main();
