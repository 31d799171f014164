/**
 * `notify.webhook-url`: a small JSON POST for each failed, timed-out or missed run, for teams
 * without Alertmanager. The scheduler only hands events to a bounded queue (O(1), never awaited);
 * one sender posts them in order, each with a timeout and a few retries with backoff. When the
 * queue is full the new event is dropped and counted: a slow receiver never holds up a slot.
 *
 * Nothing secret leaves: every text in the body goes through the daemon's censor (all the schema's
 * secrets, the webhook URL among them), and the URL is never logged.
 */
import type { Logger } from 'pino';
import type { MissedInfo, RunFinishedInfo, SchedulerHooks } from '../scheduler/types.js';

/** What the receiver gets. Fields that do not apply to the event are absent. */
export interface WebhookEvent {
  readonly source: 'iam-watcher';
  readonly event: 'run.failed' | 'run.timeout' | 'slot.missed';
  readonly watcher: string;
  readonly instance: string;
  /** When the daemon noticed it (ISO 8601, UTC). */
  readonly at: string;
  /** One line for people (Slack- and Mattermost-style receivers show `text`). */
  readonly text: string;
  readonly slot?: string;
  readonly result?: string;
  readonly error?: string;
  readonly durationMs?: number;
  readonly manual?: boolean;
  readonly count?: number;
  readonly first?: string;
  readonly last?: string;
  readonly cause?: string;
}

/** How a notification ended, for `iam_watcher_webhook_posts_total{outcome}`. */
export type WebhookOutcome = 'sent' | 'failed' | 'dropped';

/** Options of {@link WebhookNotifier}. */
export interface WebhookOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Tries per event, the first included. */
  readonly attempts: number;
  readonly instanceId: string;
  readonly logger: Logger;
  /** Hides secret values in text that leaves the process. */
  readonly censor: (text: string) => string;
  /** Hears how each event ended. */
  readonly counted?: (outcome: WebhookOutcome) => void;
  /** Events waiting beyond the one being sent. @defaultValue {@link WEBHOOK_QUEUE_SIZE} */
  readonly queueSize?: number;
  /** Wait before the first retry; doubles each time. @defaultValue 1000 */
  readonly backoffMs?: number;
}

/** Events that may wait for the sender; more are dropped (and counted). */
export const WEBHOOK_QUEUE_SIZE = 100;
/** Results of a run that are worth a post (`timeout` once runs have a timeout). */
const NOTIFIED_RESULTS = new Set<string>(['failed', 'timeout']);

/** Posts scheduler events to a webhook, in the background. */
export class WebhookNotifier {
  readonly #queue: WebhookEvent[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;
  readonly #stop = new AbortController();
  readonly #queueSize: number;
  readonly #backoffMs: number;

  constructor(private readonly o: WebhookOptions) {
    this.#queueSize = o.queueSize ?? WEBHOOK_QUEUE_SIZE;
    this.#backoffMs = o.backoffMs ?? 1_000;
  }

  /** Scheduler hooks that queue a post for each failed or timed-out run and each missed-slot report. */
  get hooks(): SchedulerHooks {
    return {
      onRunFinished: (info) => {
        if (NOTIFIED_RESULTS.has(info.result)) this.notify(this.#runEvent(info));
      },
      onMissed: (info) => this.notify(this.#missedEvent(info)),
    };
  }

  /** Queues an event; drops it (counted, logged) when the queue is full or the notifier closed. */
  notify(event: WebhookEvent): void {
    if (this.#closed || this.#queue.length >= this.#queueSize) {
      this.o.counted?.('dropped');
      this.o.logger.warn(
        { event: 'notify.webhook-dropped', watcher: event.watcher, notification: event.event },
        this.#closed
          ? 'webhook notification dropped: shutting down'
          : 'webhook notification dropped: queue full',
      );
      return;
    }
    this.#queue.push(event);
    this.#sending ??= this.#sendAll().finally(() => (this.#sending = undefined));
  }

  /**
   * Stops taking events and waits up to `timeoutMs` for the queued ones to go out; the rest are
   * abandoned (a post in flight is aborted). Idempotent; never rejects.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const sending = this.#sending;
    if (sending === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([sending, late]);
    clearTimeout(timer);
    this.#stop.abort();
    await sending;
  }

  async #sendAll(): Promise<void> {
    for (let e = this.#queue.shift(); e !== undefined; e = this.#queue.shift()) {
      if (this.#stop.signal.aborted) {
        this.o.counted?.('dropped');
        continue;
      }
      const sent = await this.#send(e);
      this.o.counted?.(sent ? 'sent' : 'failed');
    }
  }

  /** One event, with retries. True once the receiver answered 2xx. */
  async #send(e: WebhookEvent): Promise<boolean> {
    const body = JSON.stringify(e);
    let why = '';
    for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
      if (attempt > 1 && !(await this.#pause(this.#backoffMs * 2 ** (attempt - 2)))) break;
      const answer = await this.#post(body);
      if (answer.ok) return true;
      why = answer.why;
      if (!answer.retry) break;
    }
    this.o.logger.warn(
      { event: 'notify.webhook-failed', watcher: e.watcher, notification: e.event, reason: why },
      'webhook notification not delivered',
    );
    return false;
  }

  async #post(body: string): Promise<{ ok: true } | { ok: false; retry: boolean; why: string }> {
    // The post ends at its timeout or when the notifier stops (AbortSignal.any needs Node 20.3).
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer within ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    const stop = (): void => abort.abort(new Error('shutting down'));
    this.#stop.signal.addEventListener('abort', stop, { once: true });
    const signal = abort.signal;
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'iam-watcher' },
        body,
        signal,
        redirect: 'error',
      });
      await res.body?.cancel();
      if (res.ok) return { ok: true };
      const retry = res.status === 429 || res.status >= 500;
      return { ok: false, retry, why: `HTTP ${res.status}` };
    } catch (err) {
      // Messages of fetch name the host and port at most; the censor takes the URL out if one does.
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      const text = err instanceof Error ? err.message : String(err);
      const reason = signal.aborted ? String((signal.reason as Error).message) : undefined;
      const detail = reason ?? (cause === undefined ? text : `${text}: ${cause}`);
      return { ok: false, retry: true, why: this.o.censor(detail) };
    } finally {
      clearTimeout(timer);
      this.#stop.signal.removeEventListener('abort', stop);
    }
  }

  /** Waits `ms` unless the notifier stops meanwhile. True when the wait ran out. */
  #pause(ms: number): Promise<boolean> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', stop);
        resolve(true);
      }, ms);
      const stop = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', stop, { once: true });
    });
  }

  #runEvent(info: RunFinishedInfo): WebhookEvent {
    const slot = info.slot.toISOString();
    const error = info.error === undefined ? undefined : this.o.censor(info.error);
    // A string: `timeout` is a result once runs have a timeout (RunResult may not name it yet).
    const timedOut = (info.result as string) === 'timeout';
    const what = timedOut ? 'timed out' : 'failed';
    return {
      source: 'iam-watcher',
      event: timedOut ? 'run.timeout' : 'run.failed',
      watcher: info.watcher,
      instance: info.instance,
      at: new Date().toISOString(),
      text: this.o.censor(
        `iam-watcher: ${info.watcher} ${what} on ${info.instance} (slot ${slot})${error === undefined ? '' : `: ${error}`}`,
      ),
      slot,
      result: info.result,
      ...(error === undefined ? {} : { error }),
      durationMs: info.durationMs,
      manual: info.manual,
    };
  }

  #missedEvent(info: MissedInfo): WebhookEvent {
    const [first, last] = [info.first.toISOString(), info.last.toISOString()];
    return {
      source: 'iam-watcher',
      event: 'slot.missed',
      watcher: info.watcher,
      instance: this.o.instanceId,
      at: new Date().toISOString(),
      text: `iam-watcher: ${info.watcher} missed ${info.count} slot(s) from ${first} to ${last} (${info.cause === 'late' ? 'the process woke up too late' : 'no instance ran them'}), noticed by ${this.o.instanceId}`,
      count: info.count,
      first,
      last,
      cause: info.cause,
    };
  }
}
