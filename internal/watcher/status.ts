/**
 * The cluster's view of each enabled watcher, read from a coordinator: the last run wherever it
 * ran, who runs it now, the next slot, and (when the caller has them) pauses, failure streaks and
 * status watchers' row counters. `iam-watcher status` (status-command.ts) prints it; the status
 * page (status-page/model.ts) shows it.
 */
import { enabledEntries, type Config } from './config.js';
import type { AnyPlugin } from './watcher/registry.js';
import type { Coordinator, LastRunRecord } from './lock/index.js';
import { isStatusWatcher } from './watcher/status-watcher.js';
import { parseSchedule, type Schedule } from './scheduler/spec.js';
import { scheduleMode } from './list.js';
import { failureStreak, type HistoryEntry, type PauseRecord } from './lock/redis/control.js';

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
