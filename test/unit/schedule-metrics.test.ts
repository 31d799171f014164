/** The schedule gauges: slots around now from each spec, last success cluster-wide and cached. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLocalCoordinator, type Coordinator } from '../../internal/watcher/lock/index.js';
import type { LastRunRecord } from '../../internal/watcher/lock/coordinator.js';
import {
  LAST_SUCCESS_CACHE_MS,
  registerScheduleMetrics,
  slotsAround,
} from '../../internal/watcher/schedule-metrics.js';
import { parseSchedule } from '../../internal/watcher/scheduler/spec.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { watcherConfig } from '../helpers/watcher-config.js';

const at = (s: string): number => Date.parse(s);
const H = 3_600_000;

/** The value of one gauge series in the registry's text, or undefined when absent. */
async function value(registry: Registry, metric: string, watcher: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const m = new RegExp(`^${metric}\\{watcher="${watcher}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

function record(watcher: string, endMs: number, result: LastRunRecord['result'] = 'ok'): LastRunRecord {
  return {
    watcher,
    slotMs: endMs - 10,
    instance: 'x',
    result,
    startedMs: endMs - 10,
    durationMs: 10,
    counts: {},
  };
}

void describe('slotsAround', () => {
  it('@every 1d/3h: the 03:00 UTC slots either side of now; on a slot, that slot is the previous', () => {
    const s = parseSchedule('@every 1d/3h');
    assert.deepEqual(slotsAround(s, at('2024-05-01T12:00:00Z')), {
      previousMs: at('2024-05-01T03:00:00Z'),
      nextMs: at('2024-05-02T03:00:00Z'),
    });
    assert.deepEqual(slotsAround(s, at('2024-05-01T03:00:00Z')), {
      previousMs: at('2024-05-01T03:00:00Z'),
      nextMs: at('2024-05-02T03:00:00Z'),
    });
  });
  it('cron: the gap of the moment (a weekday job over the weekend spans it)', () => {
    const s = parseSchedule('0 3 * * 1-5', { timeZone: 'UTC' });
    // Saturday 2024-05-04: previous Friday 03:00, next Monday 03:00.
    assert.deepEqual(slotsAround(s, at('2024-05-04T12:00:00Z')), {
      previousMs: at('2024-05-03T03:00:00Z'),
      nextMs: at('2024-05-06T03:00:00Z'),
    });
  });
  it('fixed-delay: grid slots one interval apart', () => {
    const s = parseSchedule('@every 10m', { mode: 'fixed-delay' });
    const r = slotsAround(s, at('2024-05-01T12:04:00Z'));
    assert.deepEqual(r, { previousMs: at('2024-05-01T12:00:00Z'), nextMs: at('2024-05-01T12:10:00Z') });
  });
});

void describe('registerScheduleMetrics', () => {
  const setup = (coordinator: Coordinator | undefined, now = at('2024-05-01T12:00:00Z')) => {
    const registry = new Registry();
    const clock = new ManualClock(now);
    const watchers = [
      watcherConfig('hourly', { schedule: '@every 1h' }),
      watcherConfig('daily', { schedule: '@every 1d/3h' }),
    ];
    const metrics = registerScheduleMetrics(
      registry,
      { watchers: () => watchers, coordinator: () => coordinator },
      clock,
    );
    return { registry, clock, metrics, watchers };
  };

  it('exports the previous and next slot of every watcher, computed when scraped', async () => {
    const { registry, clock } = setup(undefined);
    assert.equal(
      await value(registry, 'iam_watcher_next_slot_timestamp_seconds', 'hourly'),
      at('2024-05-01T13:00:00Z') / 1000,
    );
    assert.equal(
      await value(registry, 'iam_watcher_previous_slot_timestamp_seconds', 'hourly'),
      at('2024-05-01T12:00:00Z') / 1000,
    );
    assert.equal(
      await value(registry, 'iam_watcher_next_slot_timestamp_seconds', 'daily'),
      at('2024-05-02T03:00:00Z') / 1000,
    );
    clock.jump(2 * H);
    assert.equal(
      await value(registry, 'iam_watcher_next_slot_timestamp_seconds', 'hourly'),
      at('2024-05-01T15:00:00Z') / 1000,
    );
  });

  it('reads the last success from the coordinator, at most once per cache period, and keeps it when the backend fails', async () => {
    const local = createLocalCoordinator({ instanceId: 'a' });
    let reads = 0;
    let failing = false;
    const counting: Coordinator = Object.assign(Object.create(local) as Coordinator, {
      lastSuccess: (w: string) => {
        reads += 1;
        return failing ? Promise.reject(new Error('down')) : local.lastSuccess(w);
      },
    });
    const { registry, clock } = setup(counting);
    assert.equal(
      await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'hourly'),
      undefined,
      'no success yet: no series',
    );
    assert.equal(reads, 2, 'one read per watcher');
    const end = at('2024-05-01T11:30:00Z');
    await local.recordRun(record('hourly', end));
    await local.recordRun(record('daily', end + 1000, 'failed'));
    assert.equal(
      await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'hourly'),
      undefined,
      'cached',
    );
    assert.equal(reads, 2);
    clock.jump(LAST_SUCCESS_CACHE_MS);
    assert.equal(await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'hourly'), end / 1000);
    assert.equal(
      await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'daily'),
      undefined,
      'a failed run is no success',
    );
    assert.equal(reads, 4);
    failing = true;
    clock.jump(LAST_SUCCESS_CACHE_MS);
    assert.equal(
      await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'hourly'),
      end / 1000,
      'kept through a failed read',
    );
  });

  it("this instance's own success shows at once, and a later one from the backend wins", async () => {
    const local = createLocalCoordinator({ instanceId: 'a' });
    const { registry, clock, metrics } = setup(local);
    const mine = at('2024-05-01T11:00:00Z');
    metrics.noteSuccess('daily', mine);
    assert.equal(await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'daily'), mine / 1000);
    await local.recordRun(record('daily', mine + 60_000));
    clock.jump(LAST_SUCCESS_CACHE_MS);
    assert.equal(
      await value(registry, 'iam_watcher_last_success_timestamp_seconds', 'daily'),
      (mine + 60_000) / 1000,
    );
  });
});
