/**
 * Replicas announce themselves: every daemon on the Redis backend adds itself to one sorted set,
 * `<lock.key-prefix>instances`, scored by the time it was last seen, every few seconds; the status
 * page lists the members seen recently. One MULTI per beat per daemon, nothing per slot. Members
 * older than {@link INSTANCES_RETAIN_MS} are trimmed by every beat, the set is capped at
 * {@link MAX_INSTANCES} members, and the key expires when no daemon beats any more.
 */
import type { Logger } from 'pino';
import type { RedisClient } from '../../pkg/redis/redis.js';

/** A daemon as it announces itself (nothing secret: its id, host, pid, version and start). */
export interface InstanceInfo {
  readonly instance: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedMs: number;
}

/** A daemon as the page lists it. */
export interface SeenInstance extends InstanceInfo {
  readonly lastSeenMs: number;
}

/** How often a daemon announces itself. */
export const HEARTBEAT_MS = 5_000;
/** A replica not seen for this long is no longer listed (and is trimmed from the set). */
export const INSTANCES_RETAIN_MS = 10 * 60_000;
/** The set never holds more members than this (the most recently seen stay). */
export const MAX_INSTANCES = 200;

/** The sorted set's key for a `lock.key-prefix` (with a `:` added as the lock keys get one). */
export function instancesKey(keyPrefix: string): string {
  const p = keyPrefix === '' || keyPrefix.endsWith(':') ? keyPrefix : `${keyPrefix}:`;
  return `${p}instances`;
}

/** The set's member for a daemon: the same text for each beat of one process. */
function member(info: InstanceInfo): string {
  const { instance, host, pid, version, startedMs } = info;
  return JSON.stringify({ instance, host, pid, version, startedMs });
}

function parseMember(text: string, score: number): SeenInstance | undefined {
  try {
    const v = JSON.parse(text) as Partial<InstanceInfo>;
    if (typeof v.instance !== 'string' || !Number.isFinite(score)) return undefined;
    return {
      instance: v.instance,
      host: typeof v.host === 'string' ? v.host : '',
      pid: typeof v.pid === 'number' ? v.pid : 0,
      version: typeof v.version === 'string' ? v.version : '',
      startedMs: typeof v.startedMs === 'number' ? v.startedMs : Number.NaN,
      lastSeenMs: score,
    };
  } catch {
    return undefined; // not written by this daemon: not listed
  }
}

/**
 * The replicas seen within {@link INSTANCES_RETAIN_MS} of `nowMs`, most recently seen first.
 * @throws when Redis does not answer
 */
export async function readInstances(
  redis: RedisClient,
  keyPrefix: string,
  nowMs: number,
): Promise<SeenInstance[]> {
  const flat = await redis.zrevrangebyscore(
    instancesKey(keyPrefix),
    '+inf',
    nowMs - INSTANCES_RETAIN_MS,
    'WITHSCORES',
    'LIMIT',
    0,
    MAX_INSTANCES,
  );
  const out: SeenInstance[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const seen = parseMember(flat[i] ?? '', Number(flat[i + 1]));
    if (seen) out.push(seen);
  }
  return out;
}

/** Options of {@link InstanceHeartbeat}. */
export interface HeartbeatOptions {
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly self: InstanceInfo;
  readonly logger: Logger;
  /** @defaultValue {@link HEARTBEAT_MS} */
  readonly intervalMs?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** Announces one daemon until stopped. */
export class InstanceHeartbeat {
  readonly #key: string;
  readonly #member: string;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;
  #inFlight: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(private readonly o: HeartbeatOptions) {
    this.#key = instancesKey(o.keyPrefix);
    this.#member = member(o.self);
    this.#now = o.now ?? Date.now;
  }

  /** Beats now and every interval after (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.o.intervalMs ?? HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** One beat: add or refresh this daemon, trim the old and the excess, renew the key's expiry. */
  beat(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const p = this.#write().finally(() => {
      if (this.#inFlight === p) this.#inFlight = undefined;
    });
    this.#inFlight = p;
    return p;
  }

  async #write(): Promise<void> {
    const now = this.#now();
    try {
      await this.o.redis
        .multi()
        .zadd(this.#key, now, this.#member)
        .zremrangebyscore(this.#key, '-inf', now - INSTANCES_RETAIN_MS)
        .zremrangebyrank(this.#key, 0, -(MAX_INSTANCES + 1))
        .pexpire(this.#key, INSTANCES_RETAIN_MS)
        .exec();
      if (this.#failing)
        this.o.logger.info({ event: 'instances.heartbeat-resumed' }, 'heartbeat written again');
      this.#failing = false;
    } catch (err) {
      // Redis being down is reported by the coordinator already: one line per outage here.
      if (!this.#failing) {
        this.o.logger.warn(
          { event: 'instances.heartbeat-failed', err: err instanceof Error ? err.message : String(err) },
          'cannot write this instance to the replica list',
        );
      }
      this.#failing = true;
    }
  }

  /**
   * Stops beating and takes this daemon off the list (it stopped cleanly, so it is not "not seen
   * for a while"). Never rejects; idempotent.
   */
  stop(): Promise<void> {
    return (this.#stopped ??= (async () => {
      clearInterval(this.#timer);
      this.#timer = undefined;
      await this.#inFlight; // a beat already sent must not add this daemon back after the removal
      try {
        await this.o.redis.zrem(this.#key, this.#member);
      } catch {
        // Redis is gone: the member ages out of the list by itself.
      }
    })());
  }
}
