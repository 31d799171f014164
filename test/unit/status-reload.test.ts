/**
 * `status` rendering from a coordinator (the in-process one), and the reload diff: which keys a
 * SIGHUP applies, which need a restart, and that secrets never show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../internal/watcher/watcher/all.js';
import { loadFromFlags } from '../helpers/load-config.js';
import { defaultRegistry } from '../../internal/watcher/watcher/registry.js';
import { diffConfig } from '../../internal/watcher/options/index.js';
import { createLocalCoordinator } from '../../internal/watcher/lock/index.js';
import { readStatus } from '../../internal/watcher/status.js';
import { formatStatus } from '../../internal/watcher/status-format.js';

const watchers = defaultRegistry.list();
const load = (flags: Record<string, string>) => loadFromFlags(watchers, flags);

test('diffConfig: watcher keys are applied, others need a restart, secrets show as ***', () => {
  const before = load({ 'mysql.password': 'old-Secret-1' });
  const after = load({
    'mysql.password': 'new-Secret-2',
    'watcher.clean.max-reserve-days': '30',
    'log.level': 'debug',
  });
  const d = diffConfig(before, after, watchers);
  assert.deepEqual(d.applied, [{ key: 'watcher.clean.max-reserve-days', from: '180', to: '30' }]);
  assert.deepEqual(d.needsRestart, [
    { key: 'mysql.password', from: '***', to: '***' },
    { key: 'log.level', from: 'info', to: 'debug' },
  ]);
  assert.ok(!JSON.stringify(d).includes('Secret'));
  assert.deepEqual(diffConfig(after, after, watchers), { applied: [], needsRestart: [] });
});

test('status: last run, current holder and next slot per enabled watcher', async () => {
  const config = load({ 'watcher.clean.schedule': '@every 1m', 'watcher.task.enabled': 'false' });
  const now = Date.parse('2025-03-01T10:00:30Z');
  const c = createLocalCoordinator({
    instanceId: 'a-1',
    clock: { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined },
  });
  const empty = await readStatus(c, config, watchers, now);
  assert.deepEqual(empty.watchers, [
    {
      watcher: 'clean',
      schedule: '@every 1m',
      mode: 'fixed-rate',
      lastRun: null,
      running: null,
      nextSlot: '2025-03-01T10:01:00.000Z',
      paused: null,
      failureStreak: 0,
    },
  ]);
  assert.match(formatStatus(empty), /^clean\s+never\s+-/m);

  await c.recordRun({
    watcher: 'clean',
    slotMs: Date.parse('2025-03-01T10:00:00Z'),
    instance: 'b-2',
    result: 'ok',
    startedMs: Date.parse('2025-03-01T10:00:00.010Z'),
    durationMs: 42,
    counts: { deleted: 3 },
  });
  const lease = await c.acquireLease('clean', { kind: 'running' });
  assert.equal(lease.outcome, 'acquired');
  const s = await readStatus(c, config, watchers, now);
  assert.deepEqual(s.watchers[0]?.lastRun, {
    slot: '2025-03-01T10:00:00.000Z',
    instance: 'b-2',
    result: 'ok',
    startedAt: '2025-03-01T10:00:00.010Z',
    durationMs: 42,
    counts: { deleted: 3 },
  });
  assert.deepEqual(s.watchers[0]?.running, { instance: 'a-1', since: '2025-03-01T10:00:30.000Z' });
  assert.match(
    formatStatus(s),
    /^clean\s+2025-03-01T10:00:00\.000Z\s+b-2\s+ok\s+42ms\s+deleted=3\s+a-1 since /m,
  );
  if (lease.outcome === 'acquired') await lease.lease.release();
  assert.equal((await readStatus(c, config, watchers, now)).watchers[0]?.running, null);
});
