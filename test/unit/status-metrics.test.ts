/**
 * The status watchers' metrics: counters start at zero for a watcher started by a reload, and a
 * watcher disabled by a reload loses its gauges, even when a sample of its ends afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createStatusMetrics } from '../../internal/watcher/status-metrics.js';

test('status metrics: counters from zero on start, gauges gone once removed, late samples dropped', async () => {
  const registry = new Registry();
  const m = createStatusMetrics(registry, ['a']);
  const text = () => registry.metrics();
  assert.match(await text(), /^iam_watcher_status_rows_total\{watcher="a",outcome="done"\} 0$/m);
  assert.doesNotMatch(await text(), /watcher="b"/);
  m.started('b');
  assert.match(await text(), /^iam_watcher_status_rows_total\{watcher="b",outcome="failed"\} 0$/m);
  m.onSample?.('b', 7, null);
  m.onSample?.('a', 3, 12.5);
  assert.match(await text(), /^iam_watcher_status_rows_waiting\{watcher="b"\} 7$/m);
  assert.match(await text(), /^iam_watcher_status_oldest_waiting_seconds\{watcher="b"\} 0$/m);
  assert.match(await text(), /^iam_watcher_status_oldest_waiting_seconds\{watcher="a"\} 12\.5$/m);
  m.removed('b');
  m.onSample?.('b', 9, null); // a sample that was in flight when the watcher stopped
  const after = await text();
  assert.doesNotMatch(after, /^iam_watcher_status_(rows_waiting|oldest_waiting_seconds)\{watcher="b"\}/m);
  assert.match(after, /^iam_watcher_status_rows_waiting\{watcher="a"\} 3$/m);
  assert.match(after, /^iam_watcher_status_rows_total\{watcher="b",outcome="failed"\} 0$/m, 'counters stay');
  m.started('b');
  m.onSample?.('b', 2, 1);
  assert.match(await text(), /^iam_watcher_status_rows_waiting\{watcher="b"\} 2$/m);
});
