/**
 * The daemon's error catalogue: a few classes, each with a stable `code`, so callers and tests match
 * on codes rather than messages. The app decides a failed command's exit code from these
 * ({@link exitCodeFor}); `cmd/` only hands the code to the process.
 */

/** Base class: every error the daemon raises on purpose carries a stable code. */
export class WatcherError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem with the configuration; `key` is the key path (`watcher.clean.max-reserve-days`). */
export interface ConfigProblem {
  /** Dotted key path, or `(config)` for the file as a whole. */
  readonly key: string;
  readonly message: string;
  /** `file:line` where the key came from a file, when known. */
  readonly where?: string;
}

/** Bad configuration, flags or environment: every problem at once. Exit code 2. */
export class ConfigError extends WatcherError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super('CONFIG_INVALID', problems.map(formatProblem).join('\n'));
  }
}

/** Formats a problem as one line: `key: message (file:line)`. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.key}: ${p.message}${p.where ? ` (${p.where})` : ''}`;
}

/** Bad command-line usage (unknown flag, missing argument). Exit code 2. */
export class UsageError extends WatcherError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** A dependency (MySQL, Redis, the health port) could not be reached in time. Exit code 1. */
export class StartupError extends WatcherError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STARTUP_FAILED', message, options);
  }
}

/**
 * A method was called in a state that does not allow it (`start()` twice), or data built for one
 * thing is used with another (a config compiled for other watchers). A bug, not bad input.
 */
export class IllegalStateError extends WatcherError {
  constructor(message: string) {
    super('ILLEGAL_STATE', message);
  }
}

/** A spec that cannot be scheduled. Raised while validating config, so it ends as a ConfigProblem. */
export class ScheduleSpecError extends WatcherError {
  constructor(message: string) {
    super('SCHEDULE_INVALID', message);
  }
}

/** A field rejects a raw value; the loader adds the key path and the file line (a ConfigProblem). */
export class FieldError extends WatcherError {
  constructor(message: string) {
    super('FIELD_INVALID', message);
  }
}

/**
 * A watcher declares itself wrongly: a malformed or duplicate name, an option that clashes with a
 * common key, a key without its Chinese doc. A bug in the watcher, found at start-up (or by
 * `make docs`), not in the config.
 */
export class WatcherDefinitionError extends WatcherError {
  constructor(message: string) {
    super('WATCHER_INVALID', message);
  }
}

/**
 * The database answered something a recipe cannot go on from: a statement changed fewer rows than
 * the batch had locked (the batch's transaction is rolled back and the run fails), or the database
 * clock read no usable time.
 */
export class UnexpectedResultError extends WatcherError {
  constructor(message: string) {
    super('DB_UNEXPECTED_RESULT', message);
  }
}

/** A document lacks the markers its generated section goes between (`make docs`). */
export class DocsMarkersError extends WatcherError {
  constructor(message: string) {
    super('DOCS_MARKERS_MISSING', message);
  }
}

/** Exit code for an error that ends a command: 2 for bad input, 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  return err instanceof ConfigError || err instanceof UsageError ? 2 : 1;
}

/**
 * A lease ended while its run still held it: another instance holds the key, or the backend did not
 * answer the extensions before the lease ran out. The aborted run's signal carries it as its reason.
 */
export class LeaseLostError extends WatcherError {
  constructor(
    /** The backend key of the lease. */
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('LEASE_LOST', message, options);
  }
}

/**
 * Why a status watcher's handler was told to stop (its AbortSignal's reason): `timeout` (the row's
 * `timeout` passed; the attempt counts as failed), `shutdown` (the claim is given back, the attempt
 * does not count) or `lost` (another replica holds the row now).
 */
export class HandlerAbortError extends WatcherError {
  constructor(
    readonly why: 'timeout' | 'shutdown' | 'lost',
    message: string,
  ) {
    super(`HANDLER_${why.toUpperCase()}`, message);
  }
}

/** A status watcher's handler could not handle its row now: the attempt fails and is retried. */
export class RowNotReadyError extends WatcherError {
  constructor(message: string) {
    super('ROW_NOT_READY', message);
  }
}
