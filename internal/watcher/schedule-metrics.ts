/**
 * The gauges that let one alert rule serve every schedule: per watcher, the time of its previous and
 * next slot and of its last success. "Last success older than two schedule gaps" is then
 * `time() - last_success > 2 * (next_slot - previous_slot)`, whatever the spec says.
 *
 * Nothing here runs per slot: the slot gauges are computed from the schedules when Prometheus
 * scrapes, and the last success is read from the coordination backend at scrape time, at most once
 * per {@link LAST_SUCCESS_CACHE_MS} (every replica then reports the same, cluster-wide value).
 */
import { Gauge, type Registry } from 'prom-client';
import type { WatcherConfig } from './config.js';
import type { Coordinator } from './lock/coordinator.js';
import { parseSchedule, type Schedule } from './scheduler/spec.js';
import { systemClock, type Clock } from '../pkg/clock/clock.js';

/** A cluster-wide read of the last successes is reused for this long. */
export const LAST_SUCCESS_CACHE_MS = 5_000;
/** A scrape waits this long for the backend; a slower read lands in the cache for the next one. */
export const LAST_SUCCESS_WAIT_MS = 1_000;

/** What the gauges read, at scrape time. */
export interface ScheduleMetricsSource {
  /** The watchers scheduled now (enabled ones, after the latest reload). */
  watchers(): readonly WatcherConfig[];
  /** The coordinator once the daemon is connected; undefined before. */
  coordinator(): Coordinator | undefined;
}

/** The previous slot (at or before `nowMs`) and the next one (after it), in ms since the epoch. */
export interface SlotsAround {
  readonly previousMs: number | undefined;
  readonly nextMs: number | undefined;
}

/**
 * The slots around `nowMs`. An `@every` schedule gives its grid slots, for `fixed-delay` too (its
 * slots follow the previous run's end, one interval apart: the gap the alert needs is the same).
 */
export function slotsAround(schedule: Schedule, nowMs: number): SlotsAround {
  if (schedule.intervalMs !== undefined) {
    const next = schedule.first(nowMs);
    return { previousMs: next - schedule.intervalMs, nextMs: next };
  }
  const next = schedule.next(nowMs);
  return {
    previousMs: schedule.previous(nowMs + 1),
    nextMs: Number.isFinite(next) ? next : undefined,
  };
}

/** The handle {@link registerScheduleMetrics} returns. */
export interface ScheduleMetrics {
  /** A run of this instance ended ok at `endMs`: known before the next backend read. */
  noteSuccess(watcher: string, endMs: number): void;
}

/** Registers the slot and last-success gauges on `registry`. */
export function registerScheduleMetrics(
  registry: Registry,
  source: ScheduleMetricsSource,
  clock: Clock = systemClock,
): ScheduleMetrics {
  const schedules = new ScheduleCache();
  const successes = new LastSuccesses(source, clock);
  const seconds = (ms: number): number => ms / 1000;
  const slotGauge = (name: string, help: string, pick: keyof SlotsAround): void => {
    new Gauge({
      name,
      help,
      labelNames: ['watcher'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = clock.now();
        for (const wc of source.watchers()) {
          const at = schedules.around(wc, now)[pick];
          if (at !== undefined) this.set({ watcher: wc.name }, seconds(at));
        }
      },
    });
  };
  slotGauge(
    'iam_watcher_previous_slot_timestamp_seconds',
    'Unix time of the latest slot of the schedule at or before now.',
    'previousMs',
  );
  slotGauge(
    'iam_watcher_next_slot_timestamp_seconds',
    'Unix time of the next slot of the schedule.',
    'nextMs',
  );
  new Gauge({
    name: 'iam_watcher_last_success_timestamp_seconds',
    help: 'Unix time of the end of the last successful run, cluster-wide (any instance).',
    labelNames: ['watcher'] as const,
    registers: [registry],
    async collect() {
      const values = await successes.read();
      this.reset();
      for (const wc of source.watchers()) {
        const at = values.get(wc.name);
        if (at !== undefined) this.set({ watcher: wc.name }, seconds(at));
      }
    },
  });
  return { noteSuccess: (watcher, endMs) => successes.note(watcher, endMs) };
}

/** Parsed schedules by (spec, mode, zone): a scrape parses nothing twice. */
class ScheduleCache {
  readonly #byKey = new Map<string, Schedule | undefined>();

  around(wc: WatcherConfig, nowMs: number): SlotsAround {
    const key = `${wc.schedule}\u0000${wc.mode}\u0000${wc.timeZone ?? ''}`;
    if (!this.#byKey.has(key)) {
      let s: Schedule | undefined;
      try {
        s = parseSchedule(wc.schedule, { mode: wc.mode, timeZone: wc.timeZone });
      } catch {
        s = undefined; // validated at load time; a spec that still fails has no slots to show
      }
      this.#byKey.set(key, s);
    }
    const s = this.#byKey.get(key);
    return s === undefined ? { previousMs: undefined, nextMs: undefined } : slotsAround(s, nowMs);
  }
}

/** The end of each watcher's last ok run: the backend's (cached), or this instance's if later. */
class LastSuccesses {
  /** What the backend said at its latest answer. */
  #stored = new Map<string, number>();
  #readAtMs = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  /** Runs of this instance, known at once (and while the backend does not answer). */
  readonly #local = new Map<string, number>();

  constructor(
    private readonly source: ScheduleMetricsSource,
    private readonly clock: Clock,
  ) {}

  note(watcher: string, endMs: number): void {
    if (endMs > (this.#local.get(watcher) ?? 0)) this.#local.set(watcher, endMs);
  }

  /** The latest of both per watcher, after a backend read if the cache is old (bounded wait). */
  async read(): Promise<ReadonlyMap<string, number>> {
    if (this.clock.now() - this.#readAtMs >= LAST_SUCCESS_CACHE_MS) {
      this.#reading ??= this.#fetch().finally(() => (this.#reading = undefined));
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_SUCCESS_WAIT_MS)));
      await Promise.race([this.#reading, waited]);
      clearTimeout(timer);
    }
    const out = new Map(this.#stored);
    for (const [w, ms] of this.#local) if (ms > (out.get(w) ?? 0)) out.set(w, ms);
    return out;
  }

  /** One read of every watcher's record, all sent at once. A failed read keeps the old values. */
  async #fetch(): Promise<void> {
    const coordinator = this.source.coordinator();
    if (coordinator === undefined) return;
    const names = this.source.watchers().map((w) => w.name);
    try {
      const records = await Promise.all(names.map((n) => coordinator.lastSuccess(n)));
      const next = new Map<string, number>();
      records.forEach((r, i) => {
        if (r !== undefined) next.set(names[i] as string, r.startedMs + r.durationMs);
      });
      this.#stored = next;
      this.#readAtMs = this.clock.now();
    } catch {
      // The backend is down: its outage is logged and alerted on elsewhere; keep what we knew.
    }
  }
}
