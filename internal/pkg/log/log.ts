/**
 * Logging: pino, JSON lines by default, `console` for people (pino-pretty). Secrets are censored at
 * the root logger, so no child or call site can leak them: properties named as secrets (scrub.ts),
 * and the secret texts themselves wherever they appear in a line. Writes are synchronous and happen
 * at the end of the event-loop turn that logged them, all lines of the turn in one write (a
 * thousand runs ending together: one write, not a thousand; `test/tools/log-write-bench.ts`
 * measures it); whatever a turn leaves is written when the process exits, so nothing is lost when
 * it exits right after logging, and {@link flushLogs} writes it at once.
 */
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino';
import { createRequire } from 'node:module';
import type { Secrets } from '../censor/censor.js';
import { TurnQueue } from '../turn/turn-queue.js';
import { PASSWORD_ONLY, scrubbing, scrubChildBindings } from './scrub.js';

export type { Logger } from 'pino';
export { CENSOR } from '../censor/censor.js';

export interface LogOptions {
  readonly level: string;
  readonly format: 'json' | 'console';
  /** `stdout`, `stderr` or file paths. */
  readonly outputPaths: readonly string[];
  /**
   * Where lines of level error and above also go, and where a failure to write a log output is
   * reported (zap's `ErrorOutputPaths`). None by default.
   */
  readonly errorOutputPaths?: readonly string[];
  /** Written as `name` on every line (zap's logger name); empty or absent for none. */
  readonly name?: string;
  /** Colour console lines (ignored for json). */
  readonly enableColor?: boolean;
  /** Leave `stack` out of logged errors. */
  readonly disableStacktrace?: boolean;
  /**
   * Names of properties that hold secrets (`api-token`, `apiToken`), censored wherever they appear
   * down to `SCRUB_DEPTH` (scrub.ts) levels into a line. `password` is always one.
   */
  readonly secretKeys?: readonly string[];
  /**
   * Secret texts, censored anywhere in a line: in its message, an error's text, at any depth. The
   * caller may add to it later (a reload that brings a new value).
   */
  readonly secrets?: Secrets;
  /** Fields on every line (e.g. `instance`). */
  readonly base?: Record<string, unknown>;
}

/** A log file: appended to, created mode 0640 (as zap's files, less the world bits) when missing. */
const FILE_MODE = 0o640;

/** Every open log file, for {@link reopenLogFiles}. */
type FileDestination = ReturnType<typeof pino.destination>;
const files = new Map<WeakRef<FileDestination>, string>();

/** Reports a failure to write or reopen a log output; set per logger to its error outputs. */
type ErrorSink = (message: string) => void;

function destination(path: string, onError: ErrorSink): DestinationStream {
  if (path === 'stdout') return pino.destination({ dest: 1, sync: true });
  if (path === 'stderr') return pino.destination({ dest: 2, sync: true });
  // No mkdir: a path into a missing directory is a configuration mistake, reported at start-up.
  const dest = pino.destination({ dest: path, sync: true, append: true, mode: FILE_MODE });
  dest.on('error', (err: NodeJS.ErrnoException) => onError(`cannot write log file ${path}: ${err.message}`));
  files.set(new WeakRef(dest), path);
  return dest;
}

/**
 * Reopens every log file by its path (for logrotate: after a rename, new lines go to a new file of
 * the old name). Lines buffered before are written first, to the file they were logged for; lines
 * written between the rename and the reopen land in the renamed file, so none is lost.
 * @returns the paths that could not be reopened, with the reason (they keep the old file).
 */
export function reopenLogFiles(): Array<{ path: string; reason: string }> {
  flushLogs();
  const failed: Array<{ path: string; reason: string }> = [];
  for (const [ref, path] of files) {
    const dest = ref.deref();
    if (dest === undefined) {
      files.delete(ref);
      continue;
    }
    try {
      dest.reopen();
    } catch (err) {
      failed.push({ path, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return failed;
}

/**
 * Lines logged during one event-loop turn, written together (synchronously) when it ends. A process
 * that exits before then writes them from its `exit` handler (see {@link pending}).
 */
class TurnBuffer implements DestinationStream {
  readonly #ref = new WeakRef(this);
  readonly #lines = new TurnQueue<string>((lines) => {
    pending.delete(this.#ref);
    const out = this.format === undefined ? lines : lines.map(this.format);
    this.dest.write(out.length === 1 ? (out[0] as string) : out.join(''));
  });

  /** @param format turns a JSON line into what is written (console lines), once per turn. */
  constructor(
    private readonly dest: DestinationStream,
    private readonly format?: (line: string) => string,
  ) {}

  write(line: string): void {
    pending.add(this.#ref);
    this.#lines.push(line);
  }

  /** pino's `logger.flush()`. */
  flush(cb?: (err?: Error) => void): void {
    this.#lines.drain();
    cb?.();
  }
}

/** Buffers with lines not yet written; {@link flushLogs} (and the `exit` handler) writes them. */
const pending = new Set<WeakRef<TurnBuffer>>();

/**
 * Writes every line logged so far, now, without waiting for the end of the turn: for an exit path,
 * and for tests that read a log right after writing it.
 */
export function flushLogs(): void {
  for (const ref of pending) ref.deref()?.flush();
}
process.on('exit', flushLogs);

function stream(path: string, opts: LogOptions, onError: ErrorSink): DestinationStream {
  const dest = destination(path, onError);
  if (opts.format === 'json') return new TurnBuffer(dest);
  // Required on demand: pino-pretty is only for people at a terminal, and slows every start-up.
  // Formatted when the turn's lines are written, not when logged: console lines cost the scheduler
  // no more than JSON ones.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({ colorize: opts.enableColor === true, translateTime: 'SYS:standard' });
  return new TurnBuffer(dest, (line) => pretty(line));
}

/** pino has no dpanic or panic: zap's levels above error that are not fatal write what fatal does. */
export function pinoLevel(level: string): string {
  return level === 'dpanic' || level === 'panic' ? 'fatal' : level;
}

/** pino's ISO `time`, formatted once per millisecond (runs ending together log in the same one). */
let timestampMs = Number.NaN;
let timestampText = '';
function isoTimestamp(): string {
  const now = Date.now();
  if (now !== timestampMs) {
    timestampText = `,"time":"${new Date(now).toISOString()}"`;
    timestampMs = now;
  }
  return timestampText;
}

/**
 * Builds the root logger.
 * @throws LogOutputError naming the output when a log file cannot be opened (a config problem).
 */
export function createLogger(opts: LogOptions): Logger {
  const paths = opts.outputPaths.length > 0 ? opts.outputPaths : ['stdout'];
  const errorPaths = opts.errorOutputPaths ?? [];
  const errorStreams: DestinationStream[] = [];
  // A write failure of one output is reported to the error outputs (never to the failing one).
  const onError: ErrorSink = (message) => {
    const line = `${JSON.stringify({ level: 'error', time: new Date().toISOString(), event: 'log.write-failed', msg: message })}\n`;
    for (const s of errorStreams) {
      try {
        s.write(line);
      } catch {
        // nowhere left to report it
      }
    }
  };
  const open = (path: string, optionName: 'output-paths' | 'error-output-paths') => {
    try {
      return stream(path, opts, onError);
    } catch (err) {
      throw new LogOutputError(optionName, path, err);
    }
  };
  const streams: StreamEntry[] = paths.map((p) => ({
    level: 'trace' as const,
    stream: open(p, 'output-paths'),
  }));
  for (const p of errorPaths) {
    const s = open(p, 'error-output-paths');
    errorStreams.push(s);
    streams.push({ level: 'error', stream: s });
  }
  const keys = new Set([...PASSWORD_ONLY, ...(opts.secretKeys ?? [])]);
  const scrub = scrubbing(keys, opts.secrets, opts.disableStacktrace !== true);
  const root = pino(
    {
      level: pinoLevel(opts.level),
      base: opts.name ? { ...opts.base, name: opts.name } : (opts.base ?? null),
      timestamp: isoTimestamp,
      formatters: { level: (label) => ({ level: label }), ...scrub.formatters },
      serializers: scrub.serializers,
      hooks: scrub.hooks,
    },
    streams.length === 1 ? (streams[0]?.stream as DestinationStream) : pino.multistream(streams),
  );
  return scrubChildBindings(root, keys);
}

/** A log output that cannot be opened; `option` is `output-paths` or `error-output-paths`. */
export class LogOutputError extends Error {
  readonly code = 'LOG_OUTPUT';
  constructor(
    readonly option: 'output-paths' | 'error-output-paths',
    readonly path: string,
    cause: unknown,
  ) {
    const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
    super(`cannot open ${JSON.stringify(path)} (${reason})`, { cause });
  }
}
