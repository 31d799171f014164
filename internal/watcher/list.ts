/** `iam-watcher list`: each watcher with its settings and next slots, in UTC and in its zone. */
import { watcherEntries, type Config } from './config.js';
import type { AnyWatcher } from './watcher/registry.js';
import { parseSchedule, type Schedule } from './scheduler/spec.js';

const SLOTS = 5;

function inZone(d: Date, timeZone: string | undefined): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${get('timeZoneName')}`;
}

/** One watcher as `list --json` prints it. */
export interface ListRow {
  name: string;
  enabled: boolean;
  schedule: string;
  mode: string;
  overlap: string;
  timeZone: string;
  next: Array<{ utc: string; local: string }>;
  note?: string;
  /** Paused cluster-wide (`iam-watcher pause`), with the operator's note. */
  paused?: { note: string; since: string };
}

/** A paused watcher as `list` shows it (see lock/redis/control.ts). */
export interface ListPause {
  readonly note: string;
  readonly atMs: number;
}

/** How a schedule's slots come, as `list` and `status` show it: `cron`, `fixed-rate` or `fixed-delay`. */
export function scheduleMode(schedule: Schedule): string {
  return schedule.kind === 'cron' ? 'cron' : schedule.mode;
}

function rows(
  config: Config,
  watchers: readonly AnyWatcher[],
  now: Date,
  paused: ReadonlyMap<string, ListPause>,
): ListRow[] {
  return watcherEntries(config, watchers).map(({ watcher, config: wc }) => {
    const zone = wc.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    const schedule = parseSchedule(wc.schedule, { mode: wc.mode, timeZone: wc.timeZone });
    const row: ListRow = {
      name: watcher.name,
      enabled: wc.enabled,
      schedule: wc.schedule,
      mode: scheduleMode(schedule),
      overlap: wc.overlap,
      timeZone: zone,
      next: [],
    };
    const p = paused.get(watcher.name);
    if (p !== undefined) row.paused = { note: p.note, since: new Date(p.atMs).toISOString() };
    if (row.mode === 'fixed-delay') {
      row.note = 'fixed-delay: each slot comes one interval after the previous run ends';
      return row;
    }
    for (const slot of schedule.nextSlots(now.getTime(), SLOTS)) {
      const d = new Date(slot);
      row.next.push({ utc: d.toISOString(), local: inZone(d, zone) });
    }
    return row;
  });
}

/** Renders the list as text (or JSON). */
export function listWatchers(
  config: Config,
  watchers: readonly AnyWatcher[],
  now: Date,
  json: boolean,
  paused: ReadonlyMap<string, ListPause> = new Map(),
): string {
  const all = rows(config, watchers, now, paused);
  if (json) return `${JSON.stringify(all, null, 2)}\n`;
  const out: string[] = [];
  for (const r of all) {
    out.push(
      `${r.name}  enabled=${r.enabled}  schedule="${r.schedule}"  mode=${r.mode}  overlap=${r.overlap}  time-zone=${r.timeZone}`,
    );
    if (r.paused) out.push(`  paused since ${r.paused.since}${r.paused.note ? `: ${r.paused.note}` : ''}`);
    if (r.note) out.push(`  ${r.note}`);
    for (const n of r.next) out.push(`  next: ${n.utc}  (${n.local})`);
  }
  return `${out.join('\n')}\n`;
}
