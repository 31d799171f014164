/**
 * The failure webhook against a real HTTP receiver on 127.0.0.1: one post per failed run of a real
 * scheduler, secrets scrubbed, retries with backoff, a bounded queue that drops (and counts) rather
 * than holding anyone up.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'mysql2/promise';
import { pino } from 'pino';
import { Secrets } from '../../internal/pkg/censor/censor.js';
import { createLocalCoordinator } from '../../internal/watcher/lock/index.js';
import {
  WebhookNotifier,
  type WebhookEvent,
  type WebhookOptions,
  type WebhookOutcome,
} from '../../internal/watcher/notify/webhook.js';
import { Scheduler } from '../../internal/watcher/scheduler/scheduler.js';
import { combineHooks } from '../../internal/watcher/scheduler-hooks.js';
import type { AnyWatcher } from '../../internal/watcher/watcher/registry.js';
import { watcherConfig } from '../helpers/watcher-config.js';

interface Receiver {
  readonly url: string;
  readonly posts: Array<{ path: string; body: string; type: string | undefined }>;
  close(): Promise<void>;
}

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A receiver on 127.0.0.1 that records each post and answers with `status(n)` (n from 1). */
async function receiver(status: (n: number) => number | 'hang' = () => 204): Promise<Receiver> {
  const posts: Receiver['posts'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', body, type: req.headers['content-type'] });
      const s = status(posts.length);
      if (s !== 'hang') res.writeHead(s).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/tok-3fa9c1`,
    posts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function logCapture(): { logger: pino.Logger; text: () => string } {
  const lines: string[] = [];
  return {
    logger: pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) }),
    text: () => lines.join(''),
  };
}

const event = (watcher: string): WebhookEvent => ({
  source: 'iam-watcher',
  event: 'run.failed',
  watcher,
  instance: 'i1',
  at: new Date().toISOString(),
  text: `${watcher} failed`,
});

function tally(): { counted: (o: WebhookOutcome) => void; n: Record<WebhookOutcome, number> } {
  const n = { sent: 0, failed: 0, dropped: 0 };
  return { counted: (o) => (n[o] += 1), n };
}

/** A notifier posting to `hook`, its outcomes tallied and its log captured; `over` replaces options. */
function notifierFor(hook: Receiver, over: Partial<WebhookOptions>) {
  const t = tally();
  const log = logCapture();
  const notifier = new WebhookNotifier({
    url: hook.url,
    timeoutMs: 2_000,
    attempts: 3,
    instanceId: 'i1',
    logger: log.logger,
    censor: (s) => s,
    counted: t.counted,
    ...over,
  });
  return { notifier, n: t.n, text: log.text, logger: log.logger };
}

void describe('failure webhook (local receiver)', () => {
  it('a real scheduler: one post per failed run, none for ok runs, no secret in the body', async () => {
    const hook = await receiver();
    const secrets = new Secrets(['hunter2-pw', hook.url]);
    const { notifier, n: sent, text, logger } = notifierFor(hook, { censor: (s) => secrets.censor(s) });
    let n = 0;
    // Fails every other run, quoting a secret in its error (as a driver error might).
    const flaky: AnyWatcher = {
      name: 'flaky',
      description: 'fails every other run',
      schedule: '@every 1s',
      options: {},
      run: () => {
        n += 1;
        return n % 2 === 1
          ? Promise.reject(new Error('login with password hunter2-pw refused'))
          : Promise.resolve({});
      },
    };
    let finishedFailed = 0;
    const scheduler = new Scheduler({
      entries: [{ watcher: flaky, config: watcherConfig('flaky', { schedule: '@every 500ms' }) }],
      coordinator: createLocalCoordinator({ instanceId: 'i1' }),
      db: {} as Pool,
      logger,
      instanceId: 'i1',
      censor: (s) => secrets.censor(s),
      hooks: combineHooks(
        { onRunFinished: (i) => void (i.result === 'failed' && (finishedFailed += 1)) },
        notifier.hooks,
      ),
    });
    scheduler.start();
    await new Promise((r) => setTimeout(r, 3_300));
    await scheduler.stop(5_000);
    await notifier.close(5_000);
    const failed = scheduler.stats().get('flaky')!.failed;
    assert.ok(failed >= 2, `failed runs: ${failed}`);
    assert.equal(finishedFailed, failed);
    assert.equal(hook.posts.length, failed, 'one post per failed run');
    assert.equal(sent.sent, failed);
    for (const p of hook.posts) {
      assert.equal(p.path, '/hooks/tok-3fa9c1');
      assert.equal(p.type, 'application/json');
      assert.ok(!p.body.includes('hunter2-pw'), p.body);
      assert.ok(!p.body.includes('tok-3fa9c1'), p.body);
      const body = JSON.parse(p.body) as WebhookEvent;
      assert.equal(body.event, 'run.failed');
      assert.equal(body.watcher, 'flaky');
      assert.equal(body.instance, 'i1');
      assert.equal(body.error, 'login with password *** refused');
      assert.match(body.text, /flaky failed on i1 \(slot \S+Z\): login with password \*\*\* refused/);
      assert.match(body.slot ?? '', /^\d{4}-\d\d-\d\dT/);
    }
    assert.ok(!text().includes('tok-3fa9c1'), 'the URL is never logged');
  });

  it('retries 5xx and 429 with backoff until a 2xx; a 4xx is not retried', async () => {
    const answers = [503, 429, 200, 400];
    const hook = await receiver((n) => answers[n - 1] ?? 200);
    const { notifier, n, text } = notifierFor(hook, { attempts: 4, backoffMs: 50 });
    const t0 = performance.now();
    notifier.notify(event('a'));
    notifier.notify(event('b'));
    await notifier.close(5_000);
    assert.deepEqual(
      hook.posts.map((p) => (JSON.parse(p.body) as WebhookEvent).watcher),
      ['a', 'a', 'a', 'b'],
    );
    assert.deepEqual(n, { sent: 1, failed: 1, dropped: 0 });
    assert.ok(performance.now() - t0 >= 50 + 100 - 5, 'backoff 50 ms, then 100 ms');
    assert.match(text(), /"event":"notify.webhook-failed","watcher":"b".*"reason":"HTTP 400"/);
  });

  it('a receiver that does not answer: each post times out, the retries end, the failure is counted', async () => {
    const hook = await receiver(() => 'hang');
    const { notifier, n, text } = notifierFor(hook, { timeoutMs: 200, attempts: 2, backoffMs: 10 });
    notifier.notify(event('a'));
    await notifier.close(5_000);
    assert.equal(hook.posts.length, 2);
    assert.deepEqual(n, { sent: 0, failed: 1, dropped: 0 });
    assert.match(text(), /"reason":"no answer within 200 ms"/);
  });

  it('never blocks: a full queue drops and counts new events at once; close abandons the rest', async () => {
    const hook = await receiver(() => 'hang');
    const { notifier, n } = notifierFor(hook, { timeoutMs: 30_000, queueSize: 2 });
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) notifier.notify(event(`w${i}`));
    assert.ok(performance.now() - t0 < 50, 'notify returns at once');
    // One in flight, two queued, seven dropped.
    assert.equal(n.dropped, 7);
    const closing = performance.now();
    await notifier.close(200);
    assert.ok(performance.now() - closing < 2_000, 'close is bounded');
    assert.deepEqual(n, { sent: 0, failed: 1, dropped: 9 });
    notifier.notify(event('late'));
    assert.equal(n.dropped, 10, 'after close, events are dropped');
    assert.equal(hook.posts.length, 1);
  });
});
