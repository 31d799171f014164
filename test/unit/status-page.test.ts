/**
 * The status page without a browser: the HTML tag escapes every value, the inline stylesheet is the
 * one the Content-Security-Policy allows by hash, the model shows what the coordinator (the
 * in-process one) and the readers hold, with secrets censored and failed reads named, and one
 * gathering serves the requests of its cache time. The browser test is test/e2e/status-page.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import '../../internal/watcher/watcher/all.js';
import { loadFromFlags } from '../helpers/load-config.js';
import { defaultRegistry } from '../../internal/watcher/watcher/registry.js';
import { createLocalCoordinator } from '../../internal/watcher/lock/index.js';
import { Secrets } from '../../internal/pkg/censor/censor.js';
import { secretValues } from '../../internal/watcher/options/index.js';
import { markup, escapeHtml } from '../../internal/watcher/status-page/html.js';
import { relative, span, utc } from '../../internal/watcher/status-page/format.js';
import { buildPageModel, type PageInput } from '../../internal/watcher/status-page/model.js';
import { renderPage } from '../../internal/watcher/status-page/render.js';
import { CONTENT_SECURITY_POLICY, STYLE } from '../../internal/watcher/status-page/style.js';
import { StatusPage } from '../../internal/watcher/status-page/status-page.js';
import type { InstanceInfo } from '../../internal/watcher/status-page/instances.js';
import { DaemonStatus } from '../../internal/watcher/status-page/daemon-status.js';
import { pino } from 'pino';

const watchers = defaultRegistry.list();
const NOW = Date.parse('2025-03-01T10:00:30Z');
const MYSQL_PW = 'My-Sql-Pw&<1>';
const REDIS_PW = 'rEdis"pw\'2';
const clock = { now: () => NOW, setTimeout: () => undefined, clearTimeout: () => undefined };
const self: InstanceInfo = {
  instance: 'web-1',
  host: 'h1',
  pid: 7,
  version: '1.2.3',
  startedMs: NOW - 60_000,
};

function config() {
  return loadFromFlags(watchers, {
    'mysql.password': MYSQL_PW,
    'redis.password': REDIS_PW,
    'watcher.task.schedule': '0 0 3 * * *',
    'watcher.task.time-zone': 'Asia/Shanghai',
    'watcher.clean.schedule': '@every 1m',
    'watcher.cleansecret.enabled': 'true',
    'watcher.cleansecret.schedule': '@every 10m',
    'watcher.cleansecret.mode': 'fixed-delay',
  });
}

test('markup: every value is escaped, markup made by the tag is not escaped twice', () => {
  const evil = `<script>alert("x")</script>&'`;
  assert.equal(escapeHtml(evil), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  const inner = markup`<b>${evil}</b>`;
  const out = markup`<p title="${evil}">${inner}${[evil, 1, null, undefined, false]}</p>`.text;
  assert.ok(!out.includes('<script'), out);
  assert.equal(out.match(/<b>/g)?.length, 1);
  assert.ok(out.includes('title="&lt;script&gt;alert(&quot;x&quot;)'));
  assert.ok(out.endsWith('&#39;1</p>'), out);
});

test('format: UTC to the second, spans and relative times', () => {
  assert.equal(utc(NOW), '2025-03-01 10:00:30Z');
  assert.equal(span(812), '812 ms');
  assert.equal(span(4_200), '4.2 s');
  assert.equal(span(184_000), '3 m 4 s');
  assert.equal(span(2 * 3_600_000 + 5 * 60_000), '2 h 5 m');
  assert.equal(span(600_000), '10 m');
  assert.equal(span(5_000), '5 s');
  assert.equal(relative(NOW + 4_500, NOW), 'in 4.5 s');
  assert.equal(relative(NOW - 12_000, NOW), '12 s ago');
  assert.equal(relative(NOW + 100, NOW), 'now');
});

test('the inline stylesheet is exactly what the CSP allows, and the page loads nothing else', () => {
  const page = renderPage({
    atMs: NOW,
    self,
    backend: 'local',
    refreshMs: 7_000,
    problems: [],
    watchers: [],
    disabled: [],
    replicas: [],
  });
  const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1];
  assert.equal(style, STYLE);
  const hash = createHash('sha256').update(style).digest('base64');
  assert.ok(CONTENT_SECURITY_POLICY.includes(`style-src 'sha256-${hash}'`), CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  assert.ok(page.includes('<meta http-equiv="refresh" content="7">'));
  for (const banned of ['<script', ' style=', '<form', '<button', '<img', 'src=', 'http://', 'https://']) {
    assert.ok(!page.includes(banned), `page has ${banned}`);
  }
});

async function pageInput(over: Partial<PageInput> = {}): Promise<PageInput> {
  const cfg = config();
  const coordinator = createLocalCoordinator({ instanceId: 'web-2', clock });
  await coordinator.recordRun({
    watcher: 'clean',
    slotMs: NOW - 30_000,
    instance: 'web-2',
    result: 'failed',
    startedMs: NOW - 30_000,
    durationMs: 1_234,
    counts: { deleted: 0 },
    error: `connect as iam with ${MYSQL_PW} failed <img src=x onerror=alert(1)>`,
  });
  const lease = await coordinator.acquireLease('task', { kind: 'running' });
  assert.equal(lease.outcome, 'acquired');
  const secrets = new Secrets(secretValues(cfg, watchers));
  return {
    config: cfg,
    watchers,
    coordinator,
    readReplicas: () =>
      Promise.resolve([
        { ...self, lastSeenMs: NOW - 2_000 },
        {
          instance: 'web-gone',
          host: 'h9',
          pid: 9,
          version: '1.2.2',
          startedMs: NOW - 3_600_000,
          lastSeenMs: NOW - 120_000,
        },
      ]),
    self,
    censor: (t) => secrets.censor(t),
    nowMs: NOW,
    ...over,
  };
}

test('model and page: last run, holder, next slots, replicas; secrets censored, text escaped', async () => {
  const input = await pageInput({
    readPaused: () =>
      Promise.resolve(
        new Map([
          ['clean', { note: `db migration <b>${REDIS_PW}</b>`, sinceMs: NOW - 60_000, by: 'ops-host' }],
        ]),
      ),
  });
  const m = await buildPageModel(input);
  assert.deepEqual(
    m.watchers.map((w) => w.name),
    ['clean', 'cleansecret', 'task'],
  );
  const [clean, cleansecret, task] = m.watchers;
  assert.equal(task?.running?.instance, 'web-2');
  assert.deepEqual(task?.next, [
    Date.parse('2025-03-01T19:00:00Z'),
    Date.parse('2025-03-02T19:00:00Z'),
    Date.parse('2025-03-03T19:00:00Z'),
  ]);
  assert.deepEqual(clean?.next, [NOW + 30_000, NOW + 90_000, NOW + 150_000]);
  assert.equal(clean?.runs[0]?.result, 'failed');
  assert.equal(clean?.fromHistory, false);
  assert.equal(clean?.paused?.note, 'db migration <b>***</b>');
  assert.equal(task?.paused, undefined);
  // fixed-delay with no chain yet: the next grid slot, as `status` says.
  assert.deepEqual(cleansecret?.next, [Date.parse('2025-03-01T10:10:00Z')]);
  assert.deepEqual(m.problems, []);

  const page = renderPage(m);
  for (const secret of [MYSQL_PW, REDIS_PW, escapeHtml(MYSQL_PW), escapeHtml(REDIS_PW)]) {
    assert.ok(!page.includes(secret), `page shows a secret: ${secret}`);
  }
  assert.ok(page.includes('connect as iam with *** failed &lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(page.includes('db migration &lt;b&gt;***&lt;/b&gt;'));
  assert.ok(!page.includes('<img') && !page.includes('<b>'));
  assert.match(page, /id="w-task"[\s\S]*Running now<\/dt><dd><span class="mono">web-2<\/span>/);
  assert.match(page, /not seen for 2 m</);
  assert.match(page, /web-1<\/span> <span class="muted">\(this page\)/);
  assert.ok(page.includes('2025-03-01 19:00:00Z'));
});

test('model: history and pause readers feed the page; a failed read is named, the rest still shows', async () => {
  const input = await pageInput({
    readHistory: (w) =>
      w === 'task'
        ? Promise.reject(new Error(`history unreadable, auth ${REDIS_PW}`))
        : Promise.resolve(
            w === 'clean'
              ? [6, 5, 4, 3, 2, 1].map((k) => ({
                  watcher: 'clean',
                  slotMs: NOW - k * 60_000,
                  instance: `web-${k}`,
                  result: ['', 'ok', 'ok', 'ok', 'failed', 'timeout', 'skipped: overlap'][k] ?? '',
                  startedMs: NOW - k * 60_000,
                  durationMs: k,
                  counts: {},
                }))
              : [],
          ),
    readPaused: () => Promise.reject(new Error('pause hash unreadable')),
  });
  const m = await buildPageModel(input);
  const clean = m.watchers.find((w) => w.name === 'clean');
  assert.equal(clean?.fromHistory, true);
  assert.deepEqual(
    clean?.runs.map((r) => r.instance),
    ['web-6', 'web-5', 'web-4', 'web-3', 'web-2'],
  );
  // The state is the newest run that ran; the streak skips skipped slots and stops at an ok run.
  assert.equal(clean?.last?.result, 'timeout');
  assert.equal(clean?.failureStreak, 2);
  assert.equal(clean?.streakAtLeast, false);
  assert.deepEqual([...m.problems].sort(), [
    'pause state: pause hash unreadable',
    'run history: history unreadable, auth ***',
  ]);
  assert.ok(m.watchers.every((w) => w.paused === undefined));
  const page = renderPage(m);
  assert.match(page, /Not everything could be read/);
  assert.match(page, /badge bad">timeout/);
  assert.match(page, /badge bad">2 failed in a row/);
  assert.match(page, /badge off">skipped: overlap/);
});

test('model: without a coordinator (still connecting) the schedules and next slots still show', async () => {
  const m = await buildPageModel(await pageInput({ coordinator: undefined }));
  assert.equal(m.problems.length, 1);
  assert.match(m.problems[0] ?? '', /still connecting/);
  assert.ok(m.watchers.every((w) => w.runs.length === 0 && w.running === undefined));
  assert.equal(m.watchers.find((w) => w.name === 'clean')?.next.length, 3);
});

test('StatusPage: one gathering serves the requests of its cache time; headers forbid loading anything', async () => {
  const input = await pageInput();
  let now = NOW;
  let reads = 0;
  const page = new StatusPage({
    config: () => input.config,
    watchers,
    coordinator: () => input.coordinator,
    readReplicas: () => {
      reads += 1;
      return input.readReplicas();
    },
    self,
    censor: input.censor,
    now: () => now,
    cacheMs: 1_000,
  });
  const [a, b] = await Promise.all([page.answer(), page.answer()]);
  now += 999;
  await page.answer();
  assert.equal(reads, 1);
  assert.equal(a.body, b.body);
  now += 1;
  await page.answer();
  assert.equal(reads, 2);
  assert.equal(a.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.equal(a.headers['x-content-type-options'], 'nosniff');
  assert.equal(a.headers['cache-control'], 'no-store');
  assert.equal(a.headers['content-type'], 'text/html; charset=utf-8');
});

test('DaemonStatus: with lock.backend local the page shows this daemon alone; disabled, there is no page', async () => {
  const cfg = loadFromFlags(watchers, { 'lock.backend': 'local', 'instance-id': 'solo-1' });
  const status = new DaemonStatus({ config: cfg, current: () => cfg, watchers });
  const coordinator = createLocalCoordinator({ instanceId: 'solo-1', clock });
  status.connected({ coordinator, redis: undefined }, pino({ level: 'silent' }));
  const answer = await status.page?.();
  assert.ok(answer, 'status-page.enabled defaults to true');
  assert.match(answer.body, /backend local/);
  assert.match(answer.body, /solo-1<\/span> <span class="muted">\(this page\)/);
  assert.match(answer.body, /lock\.backend is local: this daemon works alone/);
  assert.equal(answer.body.split('class="card"').length - 1, 2, 'clean and task are enabled by default');
  await status.stop();
  const off = loadFromFlags(watchers, { 'lock.backend': 'local', 'status-page.enabled': 'false' });
  assert.equal(new DaemonStatus({ config: off, current: () => off, watchers }).page, undefined);
});
