/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core): two spawned
 * daemons on a Redis with a password, MySQL as a least-privilege account with one and a failure
 * webhook whose URL holds a token; a known cluster state written through the project's own
 * coordinator, control records and heartbeat (a failed last run
 * whose error quotes the MySQL password and some markup, a lease held by a named instance, a
 * replica gone quiet two minutes ago), and the page checked against it: watcher rows, schedules,
 * next slots, last results, the holder, the replicas; no secret anywhere; the CSP header, no CSP
 * violation or console error, nothing loaded but the page; no sideways scrolling on a phone.
 * Screenshots (desktop and phone) go to test/output/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, freePort, tempDir, writeConfig } from '../helpers/daemon.js';
import { Instance, RedisServer, startAllWith } from '../helpers/cluster.js';
import { createTestDatabase, serverOptions, type TestDatabase } from '../helpers/mysql.js';
import { createRestrictedUser, type RestrictedUser } from '../helpers/grants.js';
import { deletePrefix, testRedis } from '../helpers/redis.js';
import { createRedisCoordinator, type Coordinator, type Lease } from '../../internal/watcher/lock/index.js';
import { InstanceHeartbeat } from '../../internal/watcher/status-page/instances.js';
import { setPaused } from '../../internal/watcher/lock/redis/control.js';
import { CONTENT_SECURITY_POLICY } from '../../internal/watcher/status-page/style.js';
import { escapeHtml } from '../../internal/watcher/status-page/html.js';
import { parseSchedule } from '../../internal/watcher/scheduler/spec.js';
import { utc } from '../../internal/watcher/status-page/format.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = join(ROOT, 'test/output');
/** Headless, and nothing that talks to the network on its own. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-sync',
  '--metrics-recording-only',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-breakpad',
  '--no-default-browser-check',
  '--disable-features=Translate,OptimizationHints,MediaRouter',
];
const id = randomBytes(4).toString('hex');
const PREFIX = `page-${id}:`;
const REDIS_PW = `Rpw-${randomBytes(6).toString('hex')}`;
/** A webhook URL carrying a token (a secret key): nothing listens there, nothing should be posted. */
const WEBHOOK = `http://127.0.0.1:9/hook/tok-${randomBytes(6).toString('hex')}`;
const WEEKLY = '0 30 4 * * 1';
const WATCHERS = `  task: { enabled: false }
  cleansecret: { enabled: false }
  clean: { enabled: true, schedule: '0 0 0 1 1 *', time-zone: UTC }
  probe: { enabled: true, schedule: '@every 1s' }
  soak01: { enabled: true, schedule: '@every 1d' }
  soak02: { enabled: true, schedule: '${WEEKLY}', time-zone: Asia/Shanghai }
`;

function configYaml(o: {
  instance: string;
  port: number;
  db: string;
  user: RestrictedUser;
  redisPort: number;
  page: boolean;
}) {
  const my = serverOptions();
  return `health-check-address: 127.0.0.1:${o.port}
instance-id: ${o.instance}
startup-timeout: 20s
shutdown-timeout: 10s
status-page:
  enabled: ${o.page}
  refresh: 5s
lock:
  key-prefix: '${PREFIX}'
mysql:
  host: ${my.host ?? '127.0.0.1'}:${my.port ?? 3306}
  username: ${o.user.user}
  password: '${o.user.password}'
  database: ${o.db}
redis:
  host: 127.0.0.1
  port: ${o.redisPort}
  password: '${REDIS_PW}'
  timeout: 2s
notify:
  webhook-url: '${WEBHOOK}'
log:
  level: info
watcher:
${WATCHERS}`;
}

/** What the browser reported while it showed a page. */
interface Seen {
  readonly console: string[];
  readonly errors: string[];
  readonly requests: string[];
}

async function open(browser: Browser, url: string, phone: boolean): Promise<{ page: Page; seen: Seen }> {
  const context = await browser.newContext(
    phone
      ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
      : { viewport: { width: 1280, height: 900 } },
  );
  const page = await context.newPage();
  const seen: Seen = { console: [], errors: [], requests: [] };
  page.on('console', (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('request', (r) => seen.requests.push(r.url()));
  const res = await page.goto(url, { waitUntil: 'load' });
  assert.equal(res?.status(), 200);
  return { page, seen };
}

/** The text of an element, whitespace collapsed. */
async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

void describe('status page in a browser', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let user: RestrictedUser;
  let redis: RedisServer;
  let instances: Instance[] = [];
  let client: ReturnType<typeof testRedis> | undefined;
  let coordinator: Coordinator;
  let lease: Lease;
  let browser: Browser;
  let pageUrl = '';
  const names = [`web-a-${id}`, `web-b-${id}`];

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run test/services/ensure.sh tools (make test does)`,
    );
    mkdirSync(OUTPUT, { recursive: true });
    db = await createTestDatabase();
    user = await createRestrictedUser(db.name);
    redis = await RedisServer.start({ password: REDIS_PW });
    const dir = tempDir('iamw-page-');
    const specs = await Promise.all(
      names.map(async (instance, k) => {
        const port = await freePort();
        const yaml = configYaml({ instance, port, db: db.name, user, redisPort: redis.port, page: k === 0 });
        return { config: { file: writeConfig(dir, yaml, `${instance}.yaml`), port, instance } };
      }),
    );
    instances = await startAllWith(specs, (c) =>
      Promise.resolve(new Instance(c.instance, c.file, c.port, { env: { PROBE_SOAK_WATCHERS: '2' } })),
    );
    pageUrl = `http://127.0.0.1:${specs[0]!.config.port}`;
    // The known state, through the project's own code paths.
    client = testRedis(redis.port, '127.0.0.1', { password: REDIS_PW });
    coordinator = createRedisCoordinator({
      redis: client,
      keyPrefix: PREFIX,
      leaseMs: 5_000,
      instanceId: 'ops-holder',
    });
    await coordinator.recordRun({
      watcher: 'clean',
      slotMs: Date.parse('2025-01-01T00:00:00Z'),
      instance: names[1]!,
      result: 'failed',
      startedMs: Date.parse('2025-01-01T00:00:00.010Z'),
      durationMs: 1_234,
      counts: { deleted: 0 },
      error: `login as ${user.user} with ${user.password} refused <img src=x onerror=alert(1)>`,
    });
    await setPaused(client, PREFIX, {
      watcher: 'soak02',
      note: `<b>db migration</b> ${REDIS_PW}`,
      atMs: Date.now() - 90_000,
      host: 'ops-laptop',
      instance: 'cli-1',
      abort: false,
    });
    const held = await coordinator.acquireLease('soak01', { kind: 'running' });
    assert.equal(held.outcome, 'acquired');
    lease = (held as { lease: Lease }).lease;
    await new InstanceHeartbeat({
      redis: client,
      keyPrefix: PREFIX,
      self: {
        instance: 'web-gone',
        host: 'old-host',
        pid: 1,
        version: '0.0.9',
        startedMs: Date.now() - 3_600_000,
      },
      logger: pino({ level: 'silent' }),
      now: () => Date.now() - 120_000,
    }).beat();
    await Promise.all(
      instances.map((i) => i.waitFor((l) => l.event === 'run.finished' && l.watcher === 'probe')),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await lease?.release();
    await coordinator?.close();
    client?.disconnect();
    await Promise.all(instances.map((i) => i.stop()));
    const admin = testRedis(redis.port, '127.0.0.1', { password: REDIS_PW });
    await deletePrefix(admin, PREFIX).finally(() => admin.disconnect());
    await redis?.halt();
    await user?.drop();
    await db?.drop();
  });

  it('answers with the restrictive headers and no secret; off where status-page.enabled is false', async () => {
    for (const path of ['/status', '/']) {
      const res = await fetch(`${pageUrl}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.match(CONTENT_SECURITY_POLICY, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
      assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await res.text();
      for (const secret of [REDIS_PW, user.password, escapeHtml(user.password), WEBHOOK, 'tok-']) {
        assert.ok(!body.includes(secret), `the page shows a secret`);
      }
      assert.ok(body.includes('<meta http-equiv="refresh" content="5">'));
    }
    const b = instances[1]!;
    assert.equal((await fetch(`http://127.0.0.1:${b.healthPort}/status`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${b.healthPort}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${b.healthPort}/healthz`)).status, 200);
  });

  it('shows the known cluster state, styled, with no CSP violation or console error', async () => {
    const { page, seen } = await open(browser, `${pageUrl}/status`, false);
    try {
      // The stylesheet applied: its hash matched the CSP.
      assert.equal(
        await page.evaluate<string>('getComputedStyle(document.body).backgroundColor'),
        'rgb(246, 247, 249)',
      );
      assert.equal(await page.locator('script, img, iframe, form, button, input, link, object').count(), 0);
      assert.deepEqual(await page.locator('table.overview tbody tr td:first-child').allTextContents(), [
        'clean',
        'probe',
        'soak01',
        'soak02',
      ]);
      assert.match(await text(page, 'main'), /Disabled: cleansecret, probe-rows, task, userinit/);
      // Schedules and next slots, as the schedule computes them.
      assert.equal(await text(page, '#w-soak02 code'), WEEKLY);
      const soak02 = await text(page, '#w-soak02');
      assert.match(soak02, /Time zone\s*Asia\/Shanghai/);
      const slots = parseSchedule(WEEKLY, { timeZone: 'Asia/Shanghai' }).nextSlots(Date.now(), 3);
      for (const t of slots) assert.ok(soak02.includes(utc(t)), `${utc(t)} not in: ${soak02}`);
      assert.match(soak02, /never ran/);
      // Paused through the project's own control record: the note as text, its secret censored.
      assert.match(soak02, /paused/);
      assert.ok(soak02.includes('yes — “<b>db migration</b> ***”'), soak02);
      assert.match(soak02, /by ops-laptop\/cli-1/);
      assert.equal(await page.locator('#w-soak02 b').count(), 0);
      // The failed last run, censored and escaped.
      const clean = await text(page, '#w-clean');
      assert.match(clean, /failed/);
      assert.ok(clean.includes(`login as ${user.user} with *** refused <img src=x onerror=alert(1)>`), clean);
      assert.ok(clean.includes(names[1]!) && clean.includes('1.2 s'), clean);
      // Who holds soak01's lease, as the coordinator reads it.
      const holder = await coordinator.holder('soak01');
      assert.equal(holder?.instance, 'ops-holder');
      assert.match(await text(page, '#w-soak01'), /running.*Running now\s*ops-holder since/);
      // probe: real runs, by one of the two daemons.
      const probe = await text(page, '#w-probe');
      assert.match(probe, /ok/);
      assert.ok(
        names.some((n) => probe.includes(n)),
        probe,
      );
      // ... read from the run history, several of them.
      assert.match(probe, /Recent runs, newest first/);
      assert.ok((await page.locator('#w-probe table.runs tr.entry').count()) >= 2);
      // Replicas: both daemons live, this one marked; the quiet one not seen for two minutes.
      const rows = await page.locator('table.replicas tbody tr').allTextContents();
      const row = (n: string) => rows.find((r) => r.includes(n))?.replace(/\s+/g, ' ') ?? '';
      assert.match(row(names[0]!), /\(this page\).*live/);
      assert.match(row(names[1]!), /live/);
      assert.match(row('web-gone'), /not seen for 2 m/);
      const all = await page.content();
      assert.ok(!all.includes(REDIS_PW) && !all.includes(user.password) && !all.includes(WEBHOOK));
      await page.screenshot({ path: join(OUTPUT, 'status-page-desktop.png'), fullPage: true });
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(seen.console, [], 'console messages (CSP violations are reported there)');
      assert.deepEqual(seen.requests, [`${pageUrl}/status`]);
    } finally {
      await page.context().close();
    }
  });

  it('fits a phone screen: no sideways scrolling, every card inside the viewport', async () => {
    const { page, seen } = await open(browser, `${pageUrl}/`, true);
    try {
      // Browser-side expressions (strings: this package compiles without the DOM types).
      const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number; innerWidth: number }>(
        '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
      );
      assert.equal(innerWidth, 390);
      assert.ok(scrollWidth <= innerWidth, `page is ${scrollWidth}px wide on a ${innerWidth}px screen`);
      const overflowing = await page.evaluate<string[]>(
        `[...document.querySelectorAll('main *')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
          .map((e) => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))`,
      );
      assert.deepEqual(overflowing, []);
      await page.screenshot({ path: join(OUTPUT, 'status-page-phone.png'), fullPage: true });
      assert.deepEqual([...seen.errors, ...seen.console], []);
    } finally {
      await page.context().close();
    }
  });
});
