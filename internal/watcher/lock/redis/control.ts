/**
 * Operator controls kept in Redis under `lock.key-prefix`: paused watchers, trigger requests and
 * their replies, and the reads of the run history. The CLI writes, every replica reads (one
 * pipeline per poll for all watchers, see `control-loop.ts`), and the status page reads through the
 * same exported functions. Nothing here is on the path of a scheduled slot.
 *
 * Layout (see keys.ts): `<prefix>{control}:paused` is a hash, one field per paused watcher holding
 * a {@link PauseRecord}; `<prefix>{control}:triggers` is a list of {@link TriggerRequest}s that
 * replicas take from the head (LPOP: exactly one replica gets each); a replica answers one request
 * on `<prefix>{control}:reply:<id>` ({@link TriggerReply}s, oldest first). The history of a watcher
 * is `<prefix>history:{<watcher>}`, a list of run records, newest first, pushed by the RELEASE script.
 */
import type { LastRunRecord } from '../coordinator.js';
import { keyNames } from '../keys.js';
import type { RedisLike } from './batcher.js';

/** A paused watcher, as `pause` stores it. */
export interface PauseRecord {
  readonly watcher: string;
  /** The operator's note (`--note`); empty when none was given. */
  readonly note: string;
  /** When the pause was issued (ms since the epoch). */
  readonly atMs: number;
  /** Where it was issued: the host and the CLI's instance id. */
  readonly host: string;
  readonly instance: string;
  /** `--abort`: runs going when the pause arrives are aborted. */
  readonly abort: boolean;
}

/** A request to run a watcher once now, on one replica. */
export interface TriggerRequest {
  readonly id: string;
  readonly watcher: string;
  readonly dryRun: boolean;
  /** When the CLI asked (ms since the epoch); a replica drops requests older than the CLI waits. */
  readonly atMs: number;
  readonly host: string;
}

/** A replica's answer to a trigger request. */
export type TriggerReply =
  | { readonly state: 'accepted'; readonly instance: string }
  /** Sent every few seconds while the run goes: the replica is alive. */
  | { readonly state: 'running'; readonly instance: string }
  | { readonly state: 'refused'; readonly instance: string; readonly reason: string }
  | {
      readonly state: 'done';
      readonly instance: string;
      readonly result: string;
      readonly counts: LastRunRecord['counts'];
      readonly durationMs: number;
      readonly error?: string;
    };

/** One entry of a watcher's run history (a run record, or a slot that was skipped). */
export type HistoryEntry = Omit<LastRunRecord, 'result'> & { readonly result: string };

/** How long a reply list lives: far longer than any CLI waits for the acceptance. */
const REPLY_TTL_S = 24 * 3600;

/** Every paused watcher, by name. @throws when Redis fails */
export async function readPaused(redis: RedisLike, prefix: string): Promise<Map<string, PauseRecord>> {
  return parsePaused(await redis.hgetall(keyNames(prefix).paused()));
}

/** Parses the paused hash; fields that do not parse are left out. */
export function parsePaused(hash: Readonly<Record<string, string>>): Map<string, PauseRecord> {
  const out = new Map<string, PauseRecord>();
  for (const [watcher, json] of Object.entries(hash)) {
    const r = parseJson<PauseRecord>(json);
    if (r !== undefined) out.set(watcher, { ...r, watcher });
  }
  return out;
}

/** Pauses a watcher cluster-wide (a second pause replaces the note). @throws when Redis fails */
export async function setPaused(redis: RedisLike, prefix: string, record: PauseRecord): Promise<void> {
  await redis.hset(keyNames(prefix).paused(), record.watcher, JSON.stringify(record));
}

/**
 * Resumes a watcher. @returns the pause it ended, or undefined when the watcher was not paused.
 * @throws when Redis fails
 */
export async function clearPaused(
  redis: RedisLike,
  prefix: string,
  watcher: string,
): Promise<PauseRecord | undefined> {
  const key = keyNames(prefix).paused();
  const [[, before] = [], [, removed] = []] = ((await redis
    .multi()
    .hget(key, watcher)
    .hdel(key, watcher)
    .exec()) ?? []) as Array<[unknown, unknown]>;
  if (removed !== 1 || typeof before !== 'string') return undefined;
  return parseJson<PauseRecord>(before);
}

/**
 * The newest `limit` entries of a watcher's history, newest first, without those older than
 * `maxAgeMs` (the list expires as a whole; old entries of a busy list go by count).
 * @throws when Redis fails
 */
export async function readHistory(
  redis: RedisLike,
  prefix: string,
  watcher: string,
  limit: number,
  maxAgeMs = Infinity,
  nowMs = Date.now(),
): Promise<HistoryEntry[]> {
  const raw = await redis.lrange(keyNames(prefix).history(watcher), 0, Math.max(0, limit - 1));
  return raw
    .map((json) => parseJson<HistoryEntry>(json))
    .filter((e): e is HistoryEntry => e !== undefined && nowMs - e.startedMs <= maxAgeMs);
}

/** Runs in a row, from the newest, that did not end ok (skipped slots do not break or extend it). */
export function failureStreak(history: readonly HistoryEntry[]): number {
  let n = 0;
  for (const e of history) {
    if (e.result.startsWith('skipped')) continue;
    if (e.result === 'ok') break;
    n += 1;
  }
  return n;
}

/** Queues a trigger request. @throws when Redis fails */
export async function pushTrigger(redis: RedisLike, prefix: string, req: TriggerRequest): Promise<string> {
  const json = JSON.stringify(req);
  await redis.rpush(keyNames(prefix).triggers(), json);
  return json;
}

/**
 * Takes a queued request back (nobody took it). @returns true when it was still queued.
 * @throws when Redis fails
 */
export async function withdrawTrigger(redis: RedisLike, prefix: string, json: string): Promise<boolean> {
  return (await redis.lrem(keyNames(prefix).triggers(), 1, json)) === 1;
}

/** Answers a trigger request. @throws when Redis fails */
export async function replyTrigger(
  redis: RedisLike,
  prefix: string,
  id: string,
  reply: TriggerReply,
): Promise<void> {
  const key = keyNames(prefix).triggerReply(id);
  await redis.multi().rpush(key, JSON.stringify(reply)).expire(key, REPLY_TTL_S).exec();
}

/** The next answer to a request, if one came. @throws when Redis fails */
export async function nextReply(
  redis: RedisLike,
  prefix: string,
  id: string,
): Promise<TriggerReply | undefined> {
  const v = await redis.lpop(keyNames(prefix).triggerReply(id));
  return v === null ? undefined : parseJson<TriggerReply>(v);
}

/** What a replica reads on each control poll. */
export interface ControlState {
  readonly paused: Map<string, PauseRecord>;
  /** The request this replica took (at most one per poll), if any. */
  readonly trigger: TriggerRequest | undefined;
}

/**
 * One control poll: the paused watchers and at most one trigger request, in one round trip.
 * @throws when Redis fails
 */
export async function pollControl(redis: RedisLike, prefix: string): Promise<ControlState> {
  const k = keyNames(prefix);
  const replies = (await redis.pipeline().hgetall(k.paused()).lpop(k.triggers()).exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const hash = (replies[0]?.[1] ?? {}) as Record<string, string>;
  const popped = replies[1]?.[1];
  return {
    paused: parsePaused(hash),
    trigger: typeof popped === 'string' ? parseJson<TriggerRequest>(popped) : undefined,
  };
}

function parseJson<T>(json: string): T | undefined {
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
