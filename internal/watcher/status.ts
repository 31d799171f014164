/**
 * `iam-watcher status`: the cluster's view of each enabled watcher, read from the coordination
 * backend (Redis): the last run wherever it ran, who runs it now, and the next slot. Reads only;
 * needs Redis, not MySQL.
 */
import { pino } from 'pino';
import { enabledEntries, type Config } from './config.js';
import type { AnyPlugin } from './watcher/registry.js';
import type { Coordinator, LastRunRecord, RedisLike } from './lock/index.js';
import { createRedisCoordinator, createRedisRowClaims } from './lock/index.js';
import { isStatusWatcher } from './watcher/status-watcher.js';
import { createLockRedis, createRedis, waitRedis } from '../pkg/redis/redis.js';
import { parseSchedule, type Schedule } from './scheduler/spec.js';
import { scheduleMode } from './list.js';
import { Secrets } from '../pkg/censor/censor.js';
import { UsageError, StartupError } from './errors.js';
import { secretValues } from './options/index.js';
import {
  failureStreak,
  readHistory,
  readPaused,
  type HistoryEntry,
  type PauseRecord,
} from './lock/redis/control.js';

/** One watcher as `status --json` prints it. */
export interface WatcherStatus {
  readonly watcher: string;
  readonly schedule: string;
  readonly mode: string;
  readonly lastRun: {
    readonly slot: string;
    readonly instance: string;
    readonly result: LastRunRecord['result'];
    readonly startedAt: string;
    readonly durationMs: number;
    readonly counts: LastRunRecord['counts'];
    readonly error?: string;
    readonly manual?: boolean;
  } | null;
  readonly running: { readonly instance: string; readonly since: string } | null;
  readonly nextSlot: string | null;
  /**
   * A status watcher's cluster-wide counters (claimed, done, retried, failed) and latest sample
   * (waiting, oldestAgeS, sampledAt); absent for scheduled watchers.
   */
  readonly rows?: Readonly<Record<string, string>>;
  /** Paused cluster-wide (`iam-watcher pause`): since when, by whom, why; null when not. */
  readonly paused: {
    readonly note: string;
    readonly since: string;
    readonly host: string;
    readonly instance: string;
  } | null;
  /** Runs in a row, newest first, that did not end ok (from the run history). */
  readonly failureStreak: number;
}

/** What `status` reads beside the coordinator: the operator controls and the run history. */
export interface StatusControls {
  readonly paused: ReadonlyMap<string, PauseRecord>;
  readonly histories: ReadonlyMap<string, readonly HistoryEntry[]>;
}

/** Reads a status watcher's counters and latest sample. */
export type RowStatsReader = (watcher: string) => Promise<Record<string, string>>;

/** What {@link readStatus} reads beside the coordinator, when the caller has it. */
export interface StatusExtras {
  /** Pauses and run histories (none: nothing paused, no streak). */
  readonly controls?: StatusControls;
  /** Status watchers' row counters (none: empty). */
  readonly rowStats?: RowStatsReader;
}

/** The whole answer of `status --json`. */
export interface ClusterStatus {
  readonly at: string;
  readonly keyPrefix: string;
  readonly watchers: readonly WatcherStatus[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function nextSlot(
  c: Coordinator,
  name: string,
  schedule: Schedule,
  nowMs: number,
): Promise<string | null> {
  let next: number;
  if (schedule.mode === 'fixed-delay') {
    // The chain's end is cluster-wide: the next slot is one interval after the last run ended.
    const end = await c.chainEnd(name);
    next = end === undefined ? schedule.first(nowMs) : schedule.next(end);
  } else {
    next = schedule.next(nowMs);
  }
  return Number.isFinite(next) ? iso(next) : null;
}

const NO_CONTROLS: StatusControls = { paused: new Map(), histories: new Map() };

/** Reads the status of every enabled watcher from a coordinator. */
export async function readStatus(
  coordinator: Coordinator,
  config: Config,
  watchers: readonly AnyPlugin[],
  nowMs: number,
  extras: StatusExtras = {},
): Promise<ClusterStatus> {
  const { controls = NO_CONTROLS, rowStats } = extras;
  const rows = await Promise.all(
    enabledEntries(config, watchers).map(async ({ watcher, config: wc }): Promise<WatcherStatus> => {
      if (isStatusWatcher(watcher)) {
        const stats = rowStats === undefined ? {} : await rowStats(watcher.name);
        return {
          watcher: watcher.name,
          schedule: '-',
          mode: 'status',
          lastRun: null,
          running: null,
          nextSlot: null,
          rows: stats,
          paused: pausedView(controls.paused.get(watcher.name)),
          failureStreak: 0,
        };
      }
      const schedule = parseSchedule(wc.schedule, { mode: wc.mode, timeZone: wc.timeZone });
      const [last, holder, next] = await Promise.all([
        coordinator.lastRun(watcher.name),
        coordinator.holder(watcher.name),
        nextSlot(coordinator, watcher.name, schedule, nowMs),
      ]);
      return {
        watcher: watcher.name,
        schedule: wc.schedule,
        mode: scheduleMode(schedule),
        lastRun:
          last === undefined
            ? null
            : {
                slot: iso(last.slotMs),
                instance: last.instance,
                result: last.result,
                startedAt: iso(last.startedMs),
                durationMs: last.durationMs,
                counts: last.counts,
                ...(last.error === undefined ? {} : { error: last.error }),
                ...(last.manual ? { manual: true } : {}),
              },
        running: holder === undefined ? null : { instance: holder.instance, since: iso(holder.sinceMs) },
        nextSlot: next,
        paused: pausedView(controls.paused.get(watcher.name)),
        failureStreak: failureStreak(controls.histories.get(watcher.name) ?? []),
      };
    }),
  );
  return { at: iso(nowMs), keyPrefix: config.lock.keyPrefix, watchers: rows };
}

function pausedView(r: PauseRecord | undefined): WatcherStatus['paused'] {
  return r === undefined ? null : { note: r.note, since: iso(r.atMs), host: r.host, instance: r.instance };
}

/** Reads the paused watchers and each watcher's history (for its failure streak). */
async function readControls(
  redis: RedisLike,
  config: Config,
  watchers: readonly AnyPlugin[],
): Promise<StatusControls> {
  const prefix = config.lock.keyPrefix;
  // Status watchers have no run history (their rows are counted by rowStats).
  const names = enabledEntries(config, watchers)
    .filter((e) => !isStatusWatcher(e.watcher))
    .map((e) => e.watcher.name);
  const [paused, histories] = await Promise.all([
    readPaused(redis, prefix),
    Promise.all(
      names.map((n) => readHistory(redis, prefix, n, config.history.size, config.history.maxAgeMs)),
    ),
  ]);
  return { paused, histories: new Map(names.map((n, i) => [n, histories[i] ?? []])) };
}

function counts(c: LastRunRecord['counts']): string {
  const parts = Object.entries(c).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length === 0 ? '-' : parts.join(',');
}

function scheduledCells(w: WatcherStatus): string[] {
  return [
    w.watcher,
    w.lastRun?.slot ?? 'never',
    w.lastRun?.instance ?? '-',
    w.lastRun ? `${w.lastRun.result}${w.lastRun.manual ? ' (manual)' : ''}` : '-',
    w.lastRun ? `${w.lastRun.durationMs}ms` : '-',
    w.lastRun ? counts(w.lastRun.counts) : '-',
    w.running ? `${w.running.instance} since ${w.running.since}` : '-',
    w.nextSlot ?? 'none',
    String(w.failureStreak),
    w.paused ? `since ${w.paused.since}` : '-',
  ];
}

/** A status watcher in the same columns: its latest sample and its cluster-wide row counts. */
function statusCells(w: WatcherStatus): string[] {
  const r = w.rows ?? {};
  const n = (k: string): string => r[k] ?? '0';
  const age = r.oldestAgeS ? `, oldest ${r.oldestAgeS}s` : '';
  return [
    w.watcher,
    r.sampledAt ?? 'never',
    '-',
    'status',
    '-',
    `claimed=${n('claimed')},done=${n('done')},retried=${n('retried')},failed=${n('failed')}`,
    `${r.waiting ?? '?'} waiting${age}`,
    'polling',
    '-',
    w.paused ? `since ${w.paused.since}` : '-',
  ];
}

/** Renders the status as an aligned text table. */
export function formatStatus(s: ClusterStatus): string {
  const head = [
    'WATCHER',
    'LAST SLOT',
    'INSTANCE',
    'RESULT',
    'DURATION',
    'COUNTS',
    'RUNNING NOW',
    'NEXT SLOT',
    'FAILURE STREAK',
    'PAUSED',
  ];
  const body = s.watchers.map((w) => (w.rows === undefined ? scheduledCells(w) : statusCells(w)));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const errors = s.watchers.flatMap((w) => [
    ...(w.paused
      ? [
          `${w.watcher}: paused by ${w.paused.host}/${w.paused.instance}${w.paused.note ? `: ${w.paused.note}` : ''}`,
        ]
      : []),
    ...(w.lastRun?.error ? [`${w.watcher}: last run ${w.lastRun.result}: ${w.lastRun.error}`] : []),
  ]);
  if (s.watchers.length === 0) return 'no watcher is enabled\n';
  return `${[line(head), ...body.map(line), ...errors].join('\n')}\n`;
}

/**
 * The status as `status` prints it (JSON or the table), with every secret of `secrets` as `***`: a
 * last run's error text comes from the watcher, not from the schema, and may quote one.
 */
export function renderStatus(s: ClusterStatus, json: boolean, secrets: Secrets): string {
  return secrets.censor(json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
}

/**
 * `iam-watcher status`: connects to Redis only (bounded by `redis.timeout`), reads, disconnects.
 * @returns the text to print. @throws StartupError (exit 1) when Redis does not answer;
 * UsageError (exit 2) when `lock.backend` is local (the state lives inside the daemon then).
 */
export async function clusterStatus(
  config: Config,
  watchers: readonly AnyPlugin[],
  json: boolean,
): Promise<string> {
  if (config.lock.backend !== 'redis') {
    throw new UsageError(
      'status reads the cluster state from Redis; lock.backend is local, so there is none',
    );
  }
  const silent = pino({ level: 'silent' });
  const redis = createRedis(config.redis, silent);
  // Leases (who runs now) live on the lock servers when lock.redis-addrs names them.
  const lockRedis = createLockRedis(config.lock.redisAddrs, config.redis, silent);
  try {
    await Promise.all(
      lockRedis.map((h) => waitRedis(h, config.redis.timeoutMs, silent).catch(() => undefined)),
    );
    try {
      await waitRedis(redis, config.redis.timeoutMs, silent);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StartupError(`cannot read the cluster status: ${reason}`, { cause: err });
    }
    const coordinator = createRedisCoordinator({
      redis: redis.client,
      lockRedis: lockRedis.map((h) => h.client),
      keyPrefix: config.lock.keyPrefix,
      leaseMs: config.lock.leaseMs,
      instanceId: config.instanceId,
    });
    let status: ClusterStatus;
    try {
      const rowStats: RowStatsReader = (w) =>
        createRedisRowClaims({
          redis: redis.client,
          keyPrefix: config.lock.keyPrefix,
          watcher: w,
          instanceId: config.instanceId,
        }).stats();
      const controls = await readControls(redis.client, config, watchers);
      status = await readStatus(coordinator, config, watchers, Date.now(), { controls, rowStats });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StartupError(`cannot read the cluster status from ${redis.target}: ${reason}`, {
        cause: err,
      });
    }
    return renderStatus(status, json, new Secrets(secretValues(config, watchers)));
  } finally {
    await Promise.all([redis.close(), ...lockRedis.map((h) => h.close())]);
  }
}
