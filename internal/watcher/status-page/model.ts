/**
 * What the status page shows, gathered on request: the cluster view `status` reads from the
 * coordinator (last run, who runs it now, next slot), the next slots `list` computes, the replicas
 * seen recently, and, where the backend keeps them, each watcher's pause state and run history.
 * Every free text (errors, notes, instance and host names, counts) passes the censor here, before
 * the page is rendered; nothing of the configuration is read but each watcher's schedule settings.
 */
import { enabledEntries, watcherEntries, type Config } from '../config.js';
import type { Coordinator } from '../lock/index.js';
import type { AnyPlugin } from '../watcher/registry.js';
import { isStatusWatcher } from '../watcher/status-watcher.js';
import { readStatus, type WatcherStatus } from '../status.js';
import { scheduleMode } from '../list.js';
import { parseSchedule } from '../scheduler/spec.js';
import type { InstanceInfo, SeenInstance } from './instances.js';
import { failureStreak } from '../lock/index.js';

/** How many next slots and recent runs each watcher shows. */
export const NEXT_SLOTS = 3;
export const RECENT_RUNS = 5;
/** How many history entries are read per watcher: the runs shown and enough for a failure streak. */
export const HISTORY_READ = 20;

/** A watcher's pause, as a pause reader gives it (all but the flag optional). */
export interface PauseState {
  readonly note?: string;
  /** When it was paused (ms since the epoch). */
  readonly sinceMs?: number;
  /** Where the pause was issued (host or instance). */
  readonly by?: string;
}

/** One finished run as the page shows it; `result` is `ok`, `failed`, `aborted`, `timeout`, `skipped: <reason>`. */
export interface PageRun {
  readonly watcher: string;
  readonly slotMs: number;
  readonly instance: string;
  readonly result: string;
  readonly startedMs: number;
  readonly durationMs: number;
  readonly counts: Readonly<Record<string, number | boolean | string>>;
  readonly error?: string;
  readonly manual?: boolean;
}

/**
 * Readers of what the backend may keep beyond the last run. Each is optional: without a pause
 * reader every watcher shows "not paused"; without a history reader the last run is the history.
 */
export interface PageReaders {
  /** Every paused watcher by name (one read for the whole page). */
  readonly readPaused?: () => Promise<ReadonlyMap<string, PauseState>>;
  /** The newest `limit` runs, newest first. */
  readonly readHistory?: (watcher: string, limit: number) => Promise<readonly PageRun[]>;
}

/** One watcher on the page. */
export interface PageWatcher {
  readonly name: string;
  readonly schedule: string;
  readonly mode: string;
  readonly overlap: string;
  /** The zone cron fields are read in; undefined = the daemon's local zone. */
  readonly timeZone: string | undefined;
  readonly dryRun: boolean;
  /** undefined: not paused (or no pause reader). */
  readonly paused: PauseState | undefined;
  /** Newest first; at most {@link RECENT_RUNS} (from the history, skipped slots included). */
  readonly runs: readonly PageRun[];
  /** The newest run that ran (not a skipped slot), for the watcher's state. */
  readonly last: PageRun | undefined;
  /** Runs in a row, newest first, that did not end ok (from the history read). */
  readonly failureStreak: number;
  /** The streak reaches past the {@link HISTORY_READ} entries read: it is at least that long. */
  readonly streakAtLeast: boolean;
  /** Whether `runs` came from the run history (else from the last-run record alone). */
  readonly fromHistory: boolean;
  readonly running: { readonly instance: string; readonly sinceMs: number } | undefined;
  readonly next: readonly number[];
}

/** The whole page. */
export interface PageModel {
  readonly atMs: number;
  /** The daemon serving the page. */
  readonly self: InstanceInfo;
  readonly backend: 'redis' | 'local';
  readonly refreshMs: number;
  /** What could not be read (the page shows the rest). */
  readonly problems: readonly string[];
  readonly watchers: readonly PageWatcher[];
  /** Watchers the configuration leaves disabled (names only). */
  readonly disabled: readonly string[];
  /** Most recently seen first; undefined when they could not be read. */
  readonly replicas: readonly SeenInstance[] | undefined;
}

/** What {@link buildPageModel} reads from. */
export interface PageInput extends PageReaders {
  readonly config: Config;
  readonly watchers: readonly AnyPlugin[];
  /** undefined while the daemon is still connecting. */
  readonly coordinator: Coordinator | undefined;
  readonly readReplicas: () => Promise<readonly SeenInstance[]>;
  readonly self: InstanceInfo;
  readonly censor: (text: string) => string;
  readonly nowMs: number;
}

/** The first failure of each kind of read (one line for twenty watchers' failed reads). */
class Problems {
  readonly #byWhat = new Map<string, string>();

  constructor(private readonly censor: (text: string) => string) {}

  /** Reads; a failure is noted under `what` and gives `fallback`. */
  async attempt<T>(what: string, read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (!this.#byWhat.has(what)) this.#byWhat.set(what, this.censor(`${what}: ${why}`.slice(0, 300)));
      return fallback;
    }
  }

  note(what: string, text: string): void {
    this.#byWhat.set(what, this.censor(text));
  }

  list(): string[] {
    return [...this.#byWhat.values()];
  }
}

function runOf(watcher: string, last: NonNullable<WatcherStatus['lastRun']>): PageRun {
  return {
    watcher,
    slotMs: Date.parse(last.slot),
    instance: last.instance,
    result: last.result,
    startedMs: Date.parse(last.startedAt),
    durationMs: last.durationMs,
    counts: last.counts,
    ...(last.error === undefined ? {} : { error: last.error }),
    ...(last.manual ? { manual: true } : {}),
  };
}

function censorRun(r: PageRun, censor: (t: string) => string): PageRun {
  const counts: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(r.counts)) counts[censor(k)] = typeof v === 'string' ? censor(v) : v;
  return {
    ...r,
    instance: censor(r.instance),
    result: censor(r.result),
    counts,
    ...(r.error === undefined ? {} : { error: censor(r.error) }),
  };
}

function censorPause(p: PauseState, censor: (t: string) => string): PauseState {
  return {
    ...p,
    ...(p.note === undefined ? {} : { note: censor(p.note) }),
    ...(p.by === undefined ? {} : { by: censor(p.by) }),
  };
}

/** The next slots of a watcher: from its schedule, or (fixed-delay) the one the cluster's chain says. */
function nextSlots(
  schedule: ReturnType<typeof parseSchedule>,
  status: WatcherStatus | undefined,
  nowMs: number,
): number[] {
  if (schedule.mode === 'fixed-delay') {
    const at = status?.nextSlot ? Date.parse(status.nextSlot) : Number.NaN;
    return Number.isFinite(at) ? [at] : [];
  }
  return schedule.nextSlots(nowMs, NEXT_SLOTS).filter((t) => Number.isFinite(t));
}

/** Gathers the page. Never rejects on a failed read: that read's part is left out and named in `problems`. */
export async function buildPageModel(i: PageInput): Promise<PageModel> {
  const problems = new Problems(i.censor);
  const coordinator = i.coordinator;
  if (coordinator === undefined) problems.note('backend', 'the daemon is still connecting to its backend');
  const readPaused = i.readPaused;
  const [cluster, replicas, pauses] = await Promise.all([
    coordinator === undefined
      ? undefined
      : problems.attempt(
          'cluster state',
          () => readStatus(coordinator, i.config, i.watchers, i.nowMs),
          undefined,
        ),
    problems.attempt('replicas', i.readReplicas, undefined),
    readPaused && problems.attempt('pause state', readPaused, undefined),
  ]);
  const byName = new Map((cluster?.watchers ?? []).map((w) => [w.watcher, w]));
  // Status watchers have no slots or runs to show: their rows are in `status` and `/metrics`.
  const scheduled = enabledEntries(i.config, i.watchers).filter((e) => !isStatusWatcher(e.watcher));
  const watchers = await Promise.all(
    scheduled.map(async ({ watcher, config: wc }): Promise<PageWatcher> => {
      const name = watcher.name;
      const status = byName.get(name);
      const readHistory = i.readHistory;
      const history =
        readHistory &&
        (await problems.attempt('run history', () => readHistory(name, HISTORY_READ), undefined));
      const paused = pauses?.get(name);
      const record = status?.lastRun ? runOf(name, status.lastRun) : undefined;
      // An empty history (kept only since an upgrade, say) still has the last-run record.
      const runs = history?.length ? history : record ? [record] : [];
      const last = runs.find((r) => !r.result.startsWith('skipped')) ?? record;
      const streak = failureStreak(runs);
      const schedule = parseSchedule(wc.schedule, { mode: wc.mode, timeZone: wc.timeZone });
      return {
        name,
        schedule: wc.schedule,
        mode: scheduleMode(schedule),
        overlap: wc.overlap,
        timeZone: wc.timeZone,
        dryRun: wc.dryRun,
        paused: paused === undefined ? undefined : censorPause(paused, i.censor),
        runs: runs.slice(0, RECENT_RUNS).map((r) => censorRun(r, i.censor)),
        last: last && censorRun(last, i.censor),
        failureStreak: streak,
        streakAtLeast:
          streak > 0 &&
          streak === runs.filter((r) => !r.result.startsWith('skipped')).length &&
          runs.length >= HISTORY_READ,
        fromHistory: history !== undefined && history.length > 0,
        running: status?.running
          ? { instance: i.censor(status.running.instance), sinceMs: Date.parse(status.running.since) }
          : undefined,
        next: nextSlots(schedule, status, i.nowMs),
      };
    }),
  );
  return {
    atMs: i.nowMs,
    self: censorInstance(i.self, i.censor),
    backend: i.config.lock.backend,
    refreshMs: i.config.statusPage.refreshMs,
    problems: problems.list(),
    watchers,
    disabled: watcherEntries(i.config, i.watchers)
      .filter((e) => !e.config.enabled)
      .map((e) => e.watcher.name),
    replicas: replicas?.map((r) => censorInstance(r, i.censor)),
  };
}

function censorInstance<T extends InstanceInfo>(r: T, censor: (t: string) => string): T {
  return { ...r, instance: censor(r.instance), host: censor(r.host), version: censor(r.version) };
}
