/**
 * What `pause`, `resume`, `trigger` and `history` do: each connects to Redis (the main `redis`
 * connection, bounded by `redis.timeout`), acts on the control keys (lock/redis/control.ts) and
 * returns the text to print and the exit code. They need the shared backend: with `lock.backend:
 * local` the state lives inside the one daemon and no other process can reach it (exit 2).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { Config } from './config.js';
import { createRedis, waitRedis } from '../pkg/redis/redis.js';
import type { RedisLike } from './lock/index.js';
import {
  clearPaused,
  nextReply,
  pushTrigger,
  readHistory,
  readPaused,
  setPaused,
  withdrawTrigger,
  type HistoryEntry,
  type PauseRecord,
  type TriggerReply,
} from './lock/redis/control.js';
import { StartupError, UsageError } from './errors.js';
import { sleep } from '../pkg/clock/clock.js';

/** What a command prints and how it exits. */
export interface ActionResult {
  readonly text: string;
  readonly code: number;
  /** The event to log (`watcher.paused`, `watcher.resumed`), if any. */
  readonly event?: Record<string, unknown>;
}

/** How long `trigger` waits for a replica to take its request. */
export const TRIGGER_ACCEPT_MS = 2_000;
/**
 * How long `trigger` waits for a sign of life from the replica running the watcher (it says
 * `running` every 2 s): after that the replica is taken for dead, the run with it.
 */
export const TRIGGER_SILENCE_MS = 10_000;
const REPLY_POLL_MS = 100;

/** Refuses commands that need the shared backend when it is local (exit 2). */
export function needShared(config: Config, command: string): void {
  if (config.lock.backend !== 'redis') {
    throw new UsageError(
      `${command} acts on the whole cluster through Redis; lock.backend is local, so there is no shared state ` +
        '(with a single local instance, disable the watcher and reload, or stop the daemon)',
    );
  }
}

/**
 * Runs `fn` with a connected client of the main Redis connection, closed afterwards; the connection
 * is waited for up to `waitMs`.
 */
export async function withRedis<T>(
  config: Config,
  fn: (redis: RedisLike) => Promise<T>,
  waitMs = config.redis.timeoutMs,
): Promise<T> {
  const silent = pino({ level: 'silent' });
  const handle = createRedis(config.redis, silent);
  try {
    try {
      await waitRedis(handle, waitMs, silent);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StartupError(`cannot reach Redis at ${handle.target}: ${reason}`, { cause: err });
    }
    return await fn(handle.client);
  } finally {
    await handle.close();
  }
}

/**
 * The paused watchers for `list`, which works without Redis: with `lock.backend: local` there are
 * none, and when Redis does not answer `warn` says that the pause state is not shown.
 */
export async function pausedForList(
  config: Config,
  warn: (text: string) => void,
): Promise<ReadonlyMap<string, PauseRecord>> {
  if (config.lock.backend !== 'redis') return new Map();
  try {
    // `list` is an offline command: a Redis that does not answer costs it a second at most.
    return await withRedis(
      config,
      (r) => readPaused(r, config.lock.keyPrefix),
      Math.min(config.redis.timeoutMs, 1000),
    );
  } catch (err) {
    warn(`iam-watcher: paused state not shown: ${err instanceof Error ? err.message : String(err)}\n`);
    return new Map();
  }
}

/** `pause <watcher> [--note TEXT] [--abort]`. */
export async function pauseWatcher(
  config: Config,
  watcher: string,
  opts: { note?: string | undefined; abort?: boolean | undefined },
): Promise<ActionResult> {
  needShared(config, 'pause');
  const record: PauseRecord = {
    watcher,
    note: opts.note ?? '',
    atMs: Date.now(),
    host: hostname(),
    instance: config.instanceId,
    abort: opts.abort === true,
  };
  await withRedis(config, (r) => setPaused(r, config.lock.keyPrefix, record));
  const event = {
    event: 'watcher.paused',
    watcher,
    note: record.note,
    issuedAt: new Date(record.atMs).toISOString(),
    issuedBy: { host: record.host, instance: record.instance },
    abort: record.abort,
  };
  const text =
    `watcher "${watcher}" paused cluster-wide${record.note ? ` (note: ${record.note})` : ''}; ` +
    `every replica skips its slots from its next control poll (within 1 s)` +
    `${record.abort ? ' and aborts a run going on' : '; a run going on finishes'}\n`;
  return { text, code: 0, event };
}

/** `resume <watcher>`. */
export async function resumeWatcher(config: Config, watcher: string): Promise<ActionResult> {
  needShared(config, 'resume');
  const ended = await withRedis(config, (r) => clearPaused(r, config.lock.keyPrefix, watcher));
  if (ended === undefined) return { text: `watcher "${watcher}" was not paused\n`, code: 0 };
  const event = {
    event: 'watcher.resumed',
    watcher,
    note: ended.note,
    pausedAt: new Date(ended.atMs).toISOString(),
    issuedAt: new Date().toISOString(),
    issuedBy: { host: hostname(), instance: config.instanceId },
  };
  return { text: `watcher "${watcher}" resumed; its next slot runs\n`, code: 0, event };
}

/** `history <watcher> [--limit N] [--json]`. */
export async function watcherHistory(
  config: Config,
  watcher: string,
  limit: number,
  json: boolean,
): Promise<ActionResult> {
  needShared(config, 'history');
  const entries = await withRedis(config, (r) =>
    readHistory(r, config.lock.keyPrefix, watcher, limit, config.history.maxAgeMs),
  );
  if (json) return { text: `${JSON.stringify(entries, null, 2)}\n`, code: 0 };
  if (entries.length === 0) return { text: `no runs of watcher "${watcher}" in the history\n`, code: 0 };
  return { text: formatHistory(entries), code: 0 };
}

/** The history as an aligned table, newest first, errors after their row. */
export function formatHistory(entries: readonly HistoryEntry[]): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const head = ['SLOT', 'INSTANCE', 'STARTED', 'DURATION', 'RESULT', 'COUNTS'];
  const rows = entries.map((e) => [
    iso(e.slotMs),
    e.instance,
    iso(e.startedMs),
    `${e.durationMs}ms`,
    `${e.result}${e.attempt === undefined ? '' : ` (attempt ${e.attempt})`}${e.manual ? ' (manual)' : ''}`,
    Object.entries(e.counts)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',') || '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(head)];
  entries.forEach((e, i) => {
    out.push(line(rows[i] ?? []));
    if (e.error !== undefined) out.push(`  error: ${e.error}`);
  });
  return `${out.join('\n')}\n`;
}

/**
 * `trigger <watcher> [--no-wait] [--dry-run]`: queues a request, waits up to
 * {@link TRIGGER_ACCEPT_MS} for a replica to take it (withdrawn otherwise: exit 1), then (unless
 * `noWait`) for its result: exit 0 ok, 1 failed, refused or gone.
 */
export async function triggerWatcher(
  config: Config,
  watcher: string,
  opts: { noWait: boolean; dryRun: boolean },
): Promise<ActionResult> {
  needShared(config, 'trigger');
  const prefix = config.lock.keyPrefix;
  const id = randomBytes(8).toString('hex');
  return withRedis(config, async (r) => {
    const req = { id, watcher, dryRun: opts.dryRun, atMs: Date.now(), host: hostname() };
    const json = await pushTrigger(r, prefix, req);
    let reply = await waitReply(r, prefix, id, TRIGGER_ACCEPT_MS);
    if (reply === undefined && (await withdrawTrigger(r, prefix, json))) {
      return {
        text: `no live replica took the trigger within ${TRIGGER_ACCEPT_MS / 1000} s (is a daemon with lock.key-prefix "${prefix}" running?)\n`,
        code: 1,
      };
    }
    // Taken just as the wait ended: its answer is on the way.
    reply ??= await waitReply(r, prefix, id, TRIGGER_ACCEPT_MS);
    if (reply?.state === 'accepted' && !opts.noWait) {
      do reply = await waitReply(r, prefix, id, TRIGGER_SILENCE_MS);
      while (reply?.state === 'running');
      if (reply === undefined) {
        return {
          text: `the replica running watcher "${watcher}" stopped answering for ${TRIGGER_SILENCE_MS / 1000} s (did it stop?); see status and history\n`,
          code: 1,
        };
      }
    }
    return describe(watcher, reply);
  });
}

/** Waits for the next reply to request `id`, up to `ms`. */
async function waitReply(
  r: RedisLike,
  prefix: string,
  id: string,
  ms: number,
): Promise<TriggerReply | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const reply = await nextReply(r, prefix, id);
    if (reply !== undefined || Date.now() >= deadline) return reply;
    await sleep(REPLY_POLL_MS);
  }
}

function describe(watcher: string, reply: TriggerReply | undefined): ActionResult {
  if (reply === undefined) return { text: `the trigger of watcher "${watcher}" got no answer\n`, code: 1 };
  switch (reply.state) {
    case 'accepted':
    case 'running':
      return {
        text: `${JSON.stringify({ watcher, state: 'accepted', instance: reply.instance })}\n`,
        code: 0,
      };
    case 'refused':
      return {
        text: `trigger of watcher "${watcher}" refused by ${reply.instance}: ${reply.reason}\n`,
        code: 1,
      };
    case 'done':
      return { text: `${JSON.stringify({ watcher, ...reply })}\n`, code: reply.result === 'ok' ? 0 : 1 };
  }
}
