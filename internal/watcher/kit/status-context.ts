/**
 * The {@link HandlerContext} of one row. A class rather than an object literal: one per row at tens of
 * thousands of rows a second, its signal and its child logger are made only when the handler asks
 * for them (most handlers never abort and log nothing).
 */
import type { Logger } from 'pino';
import type { Pool } from 'mysql2/promise';
import type { LazyAbort } from '../../pkg/abort/lazy-abort.js';
import type { HandlerContext } from './status-spec.js';

/** What every row of one worker shares. */
export interface RowContextBase<O> {
  readonly watcher: string;
  readonly instanceId: string;
  readonly db: Pool;
  readonly options: Readonly<O>;
  /** Carries `watcher` and `instance`; a row's logger adds its `key`. */
  readonly logger: Logger;
}

/** One row's context. */
export class RowContext<O> implements HandlerContext<O> {
  #logger: Logger | undefined;

  constructor(
    private readonly base: RowContextBase<O>,
    readonly attempt: number,
    private readonly key: unknown,
    private readonly abort: LazyAbort,
  ) {}

  get watcher(): string {
    return this.base.watcher;
  }

  get instanceId(): string {
    return this.base.instanceId;
  }

  get db(): Pool {
    return this.base.db;
  }

  get options(): Readonly<O> {
    return this.base.options;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get logger(): Logger {
    return (this.#logger ??= this.base.logger.child({ key: this.key }));
  }
}
