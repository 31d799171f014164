/**
 * Daemons for the fault suite: a config writer for every key the faults need, a spawned instance
 * that keeps its JSON log lines (with the time they arrived) and answers /metrics, and the slot
 * accounting that reads the outcome from the logs of all instances.
 */
import { join } from 'node:path';
import { CLI, Daemon, ROOT, freePort, tempDir, writeConfig } from '../../helpers/daemon.js';
import { serverOptions } from '../../helpers/mysql.js';
import { adopt, sleep } from './procs.js';

export const FAULT_DAEMON = join(ROOT, 'test/fixtures/probe-daemon.ts');

export type LogLine = Record<string, unknown>;

/** `watcher.<name>.*` of one watcher; keys in YAML spelling. */
export type WatcherKeys = Readonly<Record<string, string | number | boolean>>;

/** What an instance's config sets. */
export interface FaultConfig {
  readonly instanceId: string;
  readonly keyPrefix: string;
  /** @defaultValue 6379 */
  readonly redisPort?: number;
  /** @defaultValue '30s' */
  readonly lease?: string;
  /** @defaultValue '30s' */
  readonly shutdownTimeout?: string;
  /** MySQL; default the shared test server's `mysql` database. */
  readonly mysql?: { host: string; port: number; user: string; password: string; database: string };
  /** @defaultValue 'debug' (the tests read the debug `run.skipped` and `run.started` lines) */
  readonly logLevel?: string;
  /** Watchers to enable, with their keys. task, clean and cleansecret are off unless listed. */
  readonly watchers: Readonly<Record<string, WatcherKeys>>;
}

function yamlScalar(v: string | number | boolean): string {
  return typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
}

/** Writes a config file; returns it and the health port. */
export async function writeFaultConfig(c: FaultConfig): Promise<{ file: string; healthPort: number }> {
  const healthPort = await freePort();
  const shared = serverOptions();
  const my = c.mysql ?? {
    host: shared.host ?? '127.0.0.1',
    port: shared.port ?? 3306,
    user: shared.user ?? 'root',
    password: shared.password ?? '',
    database: 'mysql',
  };
  const watchers: Record<string, WatcherKeys> = {
    task: { enabled: false },
    clean: { enabled: false },
    cleansecret: { enabled: false },
  };
  for (const [name, keys] of Object.entries(c.watchers)) watchers[name] = { enabled: true, ...keys };
  const watcherYaml = Object.entries(watchers)
    .map(
      ([name, keys]) =>
        `  ${name}:\n` +
        Object.entries(keys)
          .map(([k, v]) => `    ${k}: ${yamlScalar(v)}\n`)
          .join(''),
    )
    .join('');
  const file = writeConfig(
    tempDir('iamw-faults-'),
    `health-check-address: 127.0.0.1:${healthPort}
startup-timeout: 20s
shutdown-timeout: ${c.shutdownTimeout ?? '30s'}
instance-id: ${c.instanceId}
lock:
  backend: redis
  lease: ${c.lease ?? '30s'}
  key-prefix: ${c.keyPrefix}
mysql:
  host: ${my.host}:${my.port}
  username: ${my.user}
  password: '\${FAULTS_MYSQL_PASSWORD:-}'
  database: ${my.database}
  max-connection-life-time: 1m
redis:
  host: 127.0.0.1
  port: ${c.redisPort ?? 6379}
  timeout: 1s
log:
  level: ${c.logLevel ?? 'debug'}
watcher:
${watcherYaml}`,
  );
  return { file, healthPort };
}

/** How to spawn an instance. */
export interface SpawnOptions {
  /** Use the built CLI instead of the fixture with test watchers. */
  readonly builtCli?: boolean;
  readonly wrap?: string[];
  readonly env?: Record<string, string>;
  /** The MySQL password the config reads from FAULTS_MYSQL_PASSWORD. */
  readonly mysqlPassword?: string;
}

/** One spawned daemon. */
export class Instance {
  readonly daemon: Daemon;
  readonly received: Array<{ atMs: number; line: LogLine }> = [];
  readonly startedAtMs = Date.now();
  #partial = '';

  constructor(
    readonly name: string,
    readonly file: string,
    readonly healthPort: number,
    readonly opts: SpawnOptions,
  ) {
    const env = {
      FAULTS_MYSQL_PASSWORD: opts.mysqlPassword ?? serverOptions().password ?? '',
      ...opts.env,
    };
    this.daemon = new Daemon(['-c', file], {
      ...(opts.builtCli ? {} : { script: ['--import', 'tsx', FAULT_DAEMON] }),
      env,
      ...(opts.wrap ? { wrap: opts.wrap } : {}),
    });
    adopt(this.daemon.child);
    this.daemon.child.stdout!.on('data', (chunk: string) => this.#take(chunk));
  }

  static async start(config: FaultConfig, opts: SpawnOptions = {}): Promise<Instance> {
    const { file, healthPort } = await writeFaultConfig(config);
    return new Instance(config.instanceId, file, healthPort, opts);
  }

  /** The same config as a new process (its log starts empty). */
  restart(opts: SpawnOptions = this.opts): Instance {
    return new Instance(this.name, this.file, this.healthPort, opts);
  }

  #take(chunk: string): void {
    const atMs = Date.now();
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const text of parts) {
      if (!text.startsWith('{')) continue;
      try {
        this.received.push({ atMs, line: JSON.parse(text) as LogLine });
      } catch {
        // not a log line
      }
    }
  }

  get pid(): number {
    return this.daemon.child.pid ?? -1;
  }

  lines(event?: string, watcher?: string): LogLine[] {
    return this.received
      .map((r) => r.line)
      .filter(
        (l) => (event === undefined || l.event === event) && (watcher === undefined || l.watcher === watcher),
      );
  }

  async waitFor(
    pred: (l: LogLine) => boolean,
    timeoutMs = 30_000,
    what = 'a matching line',
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline || this.exited) {
        throw new Error(
          `${this.name}: no ${what} within ${timeoutMs} ms (exit ${this.daemon.child.exitCode})\n` +
            `stdout (tail):\n${this.daemon.stdout.slice(-3000)}\nstderr:\n${this.daemon.stderr.slice(-3000)}`,
        );
      }
      await sleep(25);
    }
  }

  started(timeoutMs = 30_000): Promise<LogLine> {
    return this.waitFor((l) => l.event === 'daemon.started', timeoutMs, 'daemon.started');
  }

  get exited(): boolean {
    return this.daemon.child.exitCode !== null || this.daemon.child.signalCode !== null;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.daemon.child.kill(signal);
  }

  /** SIGTERM, then the exit status (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.daemon.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** /metrics as text. */
  async metricsText(timeoutMs = 3000): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.healthPort}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.text();
  }

  /** One sample of /metrics: `name{labels}` with the labels given (others ignored); NaN if absent. */
  async metric(name: string, labels: Record<string, string> = {}, timeoutMs = 3000): Promise<number> {
    return metricValue(await this.metricsText(timeoutMs), name, labels);
  }
}

/** The value of a Prometheus sample in `text`, summed over series matching `labels`; NaN if none. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const kv of (m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)) have[kv[1]!] = kv[2]!;
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
    sum += Number(m[4]);
    found = true;
  }
  return found ? sum : Number.NaN;
}

/** Starts instances together and waits for each to log `daemon.started`. */
export async function startAll(
  configs: ReadonlyArray<{ config: FaultConfig; opts?: SpawnOptions }>,
): Promise<Instance[]> {
  const instances = await Promise.all(configs.map((c) => Instance.start(c.config, c.opts ?? {})));
  try {
    await Promise.all(instances.map((i) => i.started()));
  } catch (err) {
    for (const i of instances) i.kill('SIGKILL');
    throw err;
  }
  return instances;
}

/** Per-slot outcome of a fixed-rate watcher across the logs of several processes. */
export interface SlotCount {
  readonly expected: number;
  /** Slots in the window with at least one `run.finished`. */
  readonly run: number;
  /** Slots anywhere with more than one `run.finished`. */
  readonly doubled: string[];
  /** Slots in the window with no `run.finished`. */
  readonly missed: string[];
  /** Slots in the window whose run did not end ok. */
  readonly notOk: string[];
  readonly perInstance: Record<string, number>;
}

/** Counts `run.finished` lines of `watcher` per grid slot in [fromMs, toMs] across `logs`. */
export function countSlots(
  logs: ReadonlyArray<{ name: string; lines: LogLine[] }>,
  watcher: string,
  fromMs: number,
  toMs: number,
  intervalMs: number,
): SlotCount {
  const bySlot = new Map<string, LogLine[]>();
  const perInstance: Record<string, number> = {};
  for (const { name, lines } of logs) {
    for (const l of lines) {
      if (l.event !== 'run.finished' || l.watcher !== watcher || l.manual === true) continue;
      const slot = String(l.slot);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), l]);
      perInstance[name] = (perInstance[name] ?? 0) + 1;
    }
  }
  const doubled = [...bySlot].filter(([, ls]) => ls.length > 1).map(([s]) => s);
  const missed: string[] = [];
  const notOk: string[] = [];
  let expected = 0;
  let run = 0;
  for (let t = Math.ceil(fromMs / intervalMs) * intervalMs; t <= toMs; t += intervalMs) {
    expected += 1;
    const runs = bySlot.get(new Date(t).toISOString()) ?? [];
    if (runs.length === 0) missed.push(new Date(t).toISOString());
    else {
      run += 1;
      if (runs.some((r) => r.result !== 'ok')) notOk.push(new Date(t).toISOString());
    }
  }
  return { expected, run, doubled, missed, notOk, perInstance };
}

/** Every instance's lines, as `countSlots` wants them (restarted processes under their own name). */
export function logsOf(instances: readonly Instance[]): Array<{ name: string; lines: LogLine[] }> {
  return instances.map((i, k) => ({ name: `${i.name}#${k}`, lines: i.lines() }));
}

/** Sleeps until the wall clock is `offsetMs` past a whole second. */
export async function untilMidSecond(offsetMs = 500): Promise<void> {
  const now = Date.now();
  await sleep((offsetMs - (now % 1000) + 1000) % 1000);
}

export { CLI };
