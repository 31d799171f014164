/**
 * The status page as the health listener serves it: the model gathered on request (one gathering
 * shared by the requests of {@link StatusPageOptions.cacheMs}, so a wall of open browsers costs the
 * backend one read a second), rendered, and sent with headers that let the browser load and run
 * nothing but the page's own stylesheet.
 */
import type { Config } from '../config.js';
import type { Coordinator } from '../lock/index.js';
import type { AnyPlugin } from '../watcher/registry.js';
import type { InstanceInfo, SeenInstance } from './instances.js';
import { buildPageModel, type PageReaders } from './model.js';
import { renderPage } from './render.js';
import { CONTENT_SECURITY_POLICY } from './style.js';

/** Where the page reads from; functions, since the daemon connects and reloads after it is made. */
export interface StatusPageOptions extends PageReaders {
  /** The config in force (watcher settings follow a reload). */
  readonly config: () => Config;
  readonly watchers: readonly AnyPlugin[];
  /** undefined while the daemon is still connecting. */
  readonly coordinator: () => Coordinator | undefined;
  readonly readReplicas: () => Promise<readonly SeenInstance[]>;
  readonly self: InstanceInfo;
  /** Hides secret values in free text (errors, notes, names). */
  readonly censor: (text: string) => string;
  /** @defaultValue Date.now */
  readonly now?: () => number;
  /** How long one gathering serves requests. @defaultValue 1000 */
  readonly cacheMs?: number;
}

/** An HTTP answer for the health listener. */
export interface PageAnswer {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The headers every answer of the page carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
});

/** Serves the page. */
export class StatusPage {
  #cached: { readonly atMs: number; readonly body: Promise<string> } | undefined;

  constructor(private readonly o: StatusPageOptions) {}

  /** The page now (or as gathered less than `cacheMs` ago). Never rejects on a failed read. */
  async answer(): Promise<PageAnswer> {
    const now = (this.o.now ?? Date.now)();
    let entry = this.#cached;
    if (entry === undefined || now - entry.atMs >= (this.o.cacheMs ?? 1000) || now < entry.atMs) {
      const body = this.#render(now);
      const fresh = { atMs: now, body };
      this.#cached = entry = fresh;
      // A gathering that failed outright is not served again.
      body.catch(() => {
        if (this.#cached === fresh) this.#cached = undefined;
      });
    }
    return { headers: PAGE_HEADERS, body: await entry.body };
  }

  async #render(nowMs: number): Promise<string> {
    const o = this.o;
    const model = await buildPageModel({
      config: o.config(),
      watchers: o.watchers,
      coordinator: o.coordinator(),
      readReplicas: o.readReplicas,
      self: o.self,
      censor: o.censor,
      nowMs,
      ...(o.readPaused ? { readPaused: o.readPaused } : {}),
      ...(o.readHistory ? { readHistory: o.readHistory } : {}),
    });
    return renderPage(model);
  }
}
