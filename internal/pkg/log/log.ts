/**
 * Logging: pino, JSON lines by default, `console` for people (pino-pretty). Secrets are redacted at
 * the root logger, so no child or call site can leak them. Writes are synchronous so nothing is lost
 * when the process exits right after logging (a daemon logs little; correctness beats throughput).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino';
import { createRequire } from 'node:module';

export type { Logger } from 'pino';

export interface LogOptions {
  readonly level: string;
  readonly format: 'json' | 'console';
  /** `stdout`, `stderr` or file paths. */
  readonly outputPaths: readonly string[];
  /** Extra redaction paths (pino syntax). Passwords are always redacted. */
  readonly redact?: readonly string[];
  /** Fields on every line (e.g. `instance`). */
  readonly base?: Record<string, unknown>;
}

/** Paths redacted everywhere, whatever the caller adds. */
export const ALWAYS_REDACTED: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'mysql.password',
  'redis.password',
  'config.mysql.password',
  'config.redis.password',
  'err.config.password',
];

function destination(path: string): DestinationStream {
  if (path === 'stdout') return pino.destination({ dest: 1, sync: true });
  if (path === 'stderr') return pino.destination({ dest: 2, sync: true });
  mkdirSync(dirname(path), { recursive: true });
  return pino.destination({ dest: path, sync: true, append: true });
}

function stream(path: string, format: LogOptions['format']): DestinationStream {
  const dest = destination(path);
  if (format === 'json') return dest;
  // Required on demand: pino-pretty is only for people at a terminal, and slows every start-up.
  const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pinoPretty({ destination: dest, sync: true, colorize: false, translateTime: 'SYS:standard' });
}

/** Builds the root logger. @throws Error when a log file cannot be opened (a config problem). */
export function createLogger(opts: LogOptions): Logger {
  const paths = opts.outputPaths.length > 0 ? opts.outputPaths : ['stdout'];
  const streams: StreamEntry[] = paths.map((p) => ({
    level: 'trace' as const,
    stream: stream(p, opts.format),
  }));
  return pino(
    {
      level: opts.level,
      base: opts.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...ALWAYS_REDACTED, ...(opts.redact ?? [])], censor: '***' },
    },
    streams.length === 1 ? (streams[0]?.stream as DestinationStream) : pino.multistream(streams),
  );
}

/** Flushes buffered log output (a no-op for synchronous destinations, kept for safety). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
