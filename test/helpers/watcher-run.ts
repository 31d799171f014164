/**
 * Builds a {@link RunContext} for running one watcher directly in a test: its options default to the
 * watcher's declared defaults, its log lines are collected as parsed JSON objects, and the rows it
 * counts are collected as the scheduler would.
 */
import { pino } from 'pino';
import type { Pool } from 'mysql2/promise';
import { runCounts } from '../../internal/watcher/watcher/registry.js';
import type { RunContext, RunCounts, Watcher } from '../../internal/watcher/watcher/registry.js';

/** One parsed log line. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** What a test may set; everything else has the watcher's defaults. */
export interface TestRunOptions<O> {
  readonly options?: Partial<O>;
  readonly dryRun?: boolean;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** The pool's connection limit as the run is told it. @defaultValue 4, the test pools' default */
  readonly dbConnectionLimit?: number;
  /** Called with every log line as it is written (e.g. to abort after the first batch). */
  readonly onLog?: (line: LogLine) => void;
}

/** The watcher's option defaults, as the config loader would produce them without a config file. */
export function defaultOptions<O extends object>(watcher: Watcher<O>): O {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries<{ default: unknown }>(watcher.options)) {
    out[key] = field.default;
  }
  return out as O;
}

/** A run context on `db`, the array its log lines land in and the rows it counted, by action. */
export function testRunContext<O extends object>(
  watcher: Watcher<O>,
  db: Pool,
  o: TestRunOptions<O> = {},
): { ctx: RunContext<O>; logs: LogLine[]; counted: Record<string, number> } {
  const logs: LogLine[] = [];
  const counted: Record<string, number> = {};
  const stream = {
    write(line: string): void {
      const parsed = JSON.parse(line) as LogLine;
      logs.push(parsed);
      o.onLog?.(parsed);
    },
  };
  const logger = pino({ level: 'debug' }, stream).child({ watcher: watcher.name });
  const ctx: RunContext<O> = {
    watcher: watcher.name,
    slot: new Date(),
    instanceId: 'test-instance',
    logger,
    signal: o.signal ?? new AbortController().signal,
    options: { ...defaultOptions(watcher), ...o.options },
    settings: { dryRun: o.dryRun ?? false, batchSize: o.batchSize ?? 1000 },
    db,
    dbConnectionLimit: o.dbConnectionLimit ?? 4,
    count(action, n) {
      counted[action] = (counted[action] ?? 0) + n;
    },
  };
  return { ctx, logs, counted };
}

/**
 * Runs `watcher` once on `db`. `result` has its counts as the scheduler records them (what it
 * returned and the rows it counted), or rejects with what the run threw.
 */
export function runTestWatcher<O extends object>(
  watcher: Watcher<O>,
  db: Pool,
  o: TestRunOptions<O> = {},
): { result: Promise<RunCounts>; logs: LogLine[]; counted: Record<string, number> } {
  const { ctx, logs, counted } = testRunContext(watcher, db, o);
  return { result: watcher.run(ctx).then((returned) => runCounts(returned, counted)), logs, counted };
}
