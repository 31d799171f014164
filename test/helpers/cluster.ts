/**
 * Several spawned daemons on one Redis, for the cluster e2e tests: each instance runs
 * `test/fixtures/probe-daemon.ts` (the real daemon plus a `probe` watcher) with its own config
 * file, and its JSON log lines are kept with the time the test received them. Helpers to read the
 * outcome across all logs, a private redis-server, and key cleanup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, ROOT, freePort, tempDir, writeConfig } from './daemon.js';
import { serverOptions } from './mysql.js';
import { deletePrefix, testRedis } from './redis.js';

/** The entry point the cluster tests spawn. */
export const PROBE_DAEMON = join(ROOT, 'test/fixtures/probe-daemon.ts');

/**
 * Debian's libfaketime (package `faketime`). The `faketime` command forks and does not pass signals
 * on, so a SIGTERM or SIGKILL sent to it would miss the daemon; preloading the library into node
 * itself, with the same `FAKETIME` spec `faketime -f` takes, shifts the clock just the same.
 */
export function libfaketime(): string {
  for (const arch of readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu'))) {
    const lib = join('/usr/lib', arch, 'faketime', 'libfaketimeMT.so.1');
    if (existsSync(lib)) return lib;
  }
  throw new Error('libfaketimeMT.so.1 not found: install the Debian package faketime');
}

/** How to spawn an instance. */
export interface SpawnOptions {
  /** Shift its clock, as `faketime -f` does (`'-2s'`, `'+2s'`). */
  readonly faketime?: string;
  /** Use the built CLI instead of the probe fixture. */
  readonly builtCli?: boolean;
  /** A command to run node under. */
  readonly wrap?: string[];
  readonly env?: Record<string, string>;
  /** The MySQL password the config reads from {@link MYSQL_PASSWORD_ENV}; default the shared server's. */
  readonly mysqlPassword?: string;
}

/** Options of a spawned instance. */
export type InstanceOptions = SpawnOptions;

/** A JSON log line. */
export type LogLine = Record<string, unknown>;

/** The environment variable the written configs read the MySQL password from. */
export const MYSQL_PASSWORD_ENV = 'CLUSTER_MYSQL_PASSWORD';

/** `watcher.<name>.*` of one watcher; keys in YAML spelling. */
export type WatcherKeys = Readonly<Record<string, string | number | boolean>>;

/** What an instance's config file sets; the rest are the daemon's defaults. */
export interface ClusterConfig {
  readonly instanceId: string;
  readonly keyPrefix: string;
  /** @defaultValue 6379 */
  readonly redisPort?: number;
  /** `lock.lease` @defaultValue '30s' */
  readonly lease?: string;
  /** @defaultValue '30s' */
  readonly shutdownTimeout?: string;
  /** MySQL; default the shared test server's `mysql` database. */
  readonly mysql?: { host: string; port: number; user: string; password: string; database: string };
  /** `mysql.max-connection-life-time`; the daemon's default when absent. */
  readonly mysqlMaxConnectionLifeTime?: string;
  /** @defaultValue 'debug' */
  readonly logLevel?: string;
  /** Watchers to enable, with their keys. task, clean and cleansecret are off unless listed. */
  readonly watchers: Readonly<Record<string, WatcherKeys>>;
}

/** A config with only the probe watcher enabled (see {@link probeConfig}). */
export interface ProbeConfig {
  readonly instanceId: string;
  readonly keyPrefix: string;
  /** @defaultValue 6379 */
  readonly redisPort?: number;
  /** `lock.lease` @defaultValue '30s' */
  readonly lease?: string;
  /** `watcher.probe.schedule` @defaultValue '@every 1s' */
  readonly schedule?: string;
  /** @defaultValue 'fixed-rate' */
  readonly mode?: 'fixed-rate' | 'fixed-delay';
  /** @defaultValue 'skip' */
  readonly overlap?: 'skip' | 'allow' | 'delay';
  readonly sleepMs?: number;
  readonly blockMs?: number;
  /** @defaultValue '30s' */
  readonly shutdownTimeout?: string;
}

/** The {@link ClusterConfig} of a {@link ProbeConfig}. */
export function probeConfig(c: ProbeConfig): ClusterConfig {
  return {
    instanceId: c.instanceId,
    keyPrefix: c.keyPrefix,
    ...(c.redisPort === undefined ? {} : { redisPort: c.redisPort }),
    ...(c.lease === undefined ? {} : { lease: c.lease }),
    ...(c.shutdownTimeout === undefined ? {} : { shutdownTimeout: c.shutdownTimeout }),
    watchers: {
      probe: {
        schedule: c.schedule ?? '@every 1s',
        mode: c.mode ?? 'fixed-rate',
        overlap: c.overlap ?? 'skip',
        'sleep-ms': c.sleepMs ?? 0,
        'block-ms': c.blockMs ?? 0,
      },
    },
  };
}

function yamlScalar(v: string | number | boolean): string {
  return typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
}

/** Writes an instance's config file (debug logs unless set); returns it and the health port. */
export async function writeClusterConfig(
  config: ClusterConfig | ProbeConfig,
  dirPrefix = 'iamw-cluster-',
): Promise<{ file: string; healthPort: number }> {
  const healthPort = await freePort();
  const file = writeConfig(tempDir(dirPrefix), clusterConfigYaml(config, healthPort));
  return { file, healthPort };
}

/** The YAML of an instance's config file (for a test that rewrites it before a SIGHUP). */
export function clusterConfigYaml(config: ClusterConfig | ProbeConfig, healthPort: number): string {
  const c = 'watchers' in config ? config : probeConfig(config);
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
  const lifeTime =
    c.mysqlMaxConnectionLifeTime === undefined
      ? ''
      : `  max-connection-life-time: ${c.mysqlMaxConnectionLifeTime}\n`;
  return `health-check-address: 127.0.0.1:${healthPort}
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
  password: '\${${MYSQL_PASSWORD_ENV}:-}'
  database: ${my.database}
${lifeTime}redis:
  host: 127.0.0.1
  port: ${c.redisPort ?? 6379}
  timeout: 1s
log:
  level: ${c.logLevel ?? 'debug'}
watcher:
${watcherYaml}`;
}

/** Writes the config of a probe-only instance. */
export function writeProbeConfig(c: ProbeConfig): Promise<{ file: string; healthPort: number }> {
  return writeClusterConfig(probeConfig(c));
}

/** One spawned daemon of the cluster. */
export class Instance {
  readonly daemon: Daemon;
  /** Every JSON line it printed, with the test's clock when the line arrived. */
  readonly received: Array<{ atMs: number; line: LogLine }> = [];
  readonly startedAtMs = Date.now();
  #partial = '';

  constructor(
    readonly name: string,
    readonly file: string,
    readonly healthPort: number,
    readonly opts: SpawnOptions = {},
  ) {
    const env: Record<string, string> = {
      [MYSQL_PASSWORD_ENV]: opts.mysqlPassword ?? serverOptions().password ?? '',
    };
    if (opts.faketime !== undefined) {
      env.LD_PRELOAD = libfaketime();
      env.FAKETIME = opts.faketime;
    }
    Object.assign(env, opts.env);
    this.daemon = new Daemon(['-c', file], {
      ...(opts.builtCli ? {} : { script: ['--import', 'tsx', PROBE_DAEMON] }),
      env,
      ...(opts.wrap ? { wrap: opts.wrap } : {}),
    });
    this.daemon.child.stdout!.on('data', (chunk: string) => this.#take(chunk));
  }

  /** How long {@link waitFor} and {@link started} wait unless told. */
  protected get waitTimeoutMs(): number {
    return 20_000;
  }

  /** How long {@link stop} waits for the exit after SIGTERM unless told. */
  protected get stopTimeoutMs(): number {
    return 15_000;
  }

  /** Spawns an instance with a fresh config file. */
  static async start(config: ClusterConfig | ProbeConfig, opts: SpawnOptions = {}): Promise<Instance> {
    const { file, healthPort } = await writeClusterConfig(config);
    return new Instance(config.instanceId, file, healthPort, opts);
  }

  /** The same config as a new process of the same class (its log starts empty). */
  restart(opts: SpawnOptions = this.opts): this {
    const Self = this.constructor as new (name: string, file: string, port: number, o: SpawnOptions) => this;
    return new Self(this.name, this.file, this.healthPort, opts);
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

  /** Its lines, only those with this event and of this watcher when given. */
  lines(event?: string, watcher?: string): LogLine[] {
    return this.received
      .map((r) => r.line)
      .filter(
        (l) => (event === undefined || l.event === event) && (watcher === undefined || l.watcher === watcher),
      );
  }

  /** Lines of the probe watcher with this event. */
  probe(event: string): LogLine[] {
    return this.lines(event, 'probe');
  }

  /** Waits for a line; fails with this instance's output. */
  async waitFor(
    pred: (l: LogLine) => boolean,
    timeoutMs = this.waitTimeoutMs,
    what = 'matching log line',
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline || this.exited) {
        throw new Error(
          `${this.name}: no ${what} within ${timeoutMs} ms (exit ${this.daemon.child.exitCode})\n` +
            `stdout (tail):\n${this.daemon.stdout.slice(-4000)}\nstderr (tail):\n${this.daemon.stderr.slice(-4000)}`,
        );
      }
      await sleep(25);
    }
  }

  /** Waits for `daemon.started`. */
  started(timeoutMs = this.waitTimeoutMs): Promise<LogLine> {
    return this.waitFor((l) => l.event === 'daemon.started', timeoutMs, 'daemon.started');
  }

  /** The time the daemon's clock wrote on a line minus the test's clock when the line arrived. */
  clockOffsetMs(event = 'daemon.started'): number {
    const r = this.received.find((x) => x.line.event === event);
    if (r === undefined) throw new Error(`${this.name}: no ${event} line`);
    return Date.parse(String(r.line.time)) - r.atMs;
  }

  get exited(): boolean {
    return this.daemon.child.exitCode !== null || this.daemon.child.signalCode !== null;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.daemon.child.kill(signal);
  }

  /** SIGTERM, then the exit status (SIGKILL after `timeoutMs`). */
  async stop(
    timeoutMs = this.stopTimeoutMs,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    try {
      return await this.daemon.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Writes each instance's output to a new directory (for a failed test to point at); returns it. */
export function saveLogs(instances: readonly Instance[]): string {
  const dir = tempDir('iamw-cluster-logs-');
  instances.forEach((i, k) => {
    writeFileSync(join(dir, `${k}-${i.name}.log`), i.daemon.stdout);
    if (i.daemon.stderr !== '') writeFileSync(join(dir, `${k}-${i.name}.stderr`), i.daemon.stderr);
  });
  return dir;
}

/** Kills whatever still runs and deletes the test's keys; keeps the logs of a failed test. */
export async function cleanUpCluster(
  t: { diagnostic(msg: string): void },
  instances: readonly Instance[],
  prefix: string,
  failed: boolean,
): Promise<void> {
  for (const i of instances) i.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.daemon.exited));
  await deleteKeys(prefix);
  if (failed) t.diagnostic(`daemon logs kept in ${saveLogs(instances)}`);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sleeps until the wall clock is `offsetMs` past a whole second (away from the slot boundaries). */
export async function untilMidSecond(offsetMs = 500): Promise<void> {
  const now = Date.now();
  await sleep((offsetMs - (now % 1000) + 1000) % 1000);
}

/** Starts instances together with `start` and waits until each has logged `daemon.started`. */
export async function startAllWith<C, T extends Instance>(
  configs: ReadonlyArray<{ config: C; opts?: SpawnOptions }>,
  start: (config: C, opts: SpawnOptions) => Promise<T>,
): Promise<T[]> {
  const instances = await Promise.all(configs.map((c) => start(c.config, c.opts ?? {})));
  try {
    await Promise.all(instances.map((i) => i.started()));
  } catch (err) {
    for (const i of instances) i.kill('SIGKILL');
    throw err;
  }
  return instances;
}

/** Starts instances together and waits until each has logged `daemon.started`. */
export function startAll(
  configs: ReadonlyArray<{ config: ClusterConfig | ProbeConfig; opts?: SpawnOptions }>,
): Promise<Instance[]> {
  return startAllWith(configs, (c, o) => Instance.start(c, o));
}

/** Per-slot outcome of a fixed-rate watcher across several logs. */
export interface SlotTally {
  /** Slots inside the checked range. */
  readonly expected: number;
  /** Slots inside the range with at least one `run.finished`. */
  readonly run: number;
  /** Slots inside the range with exactly one `run.finished`, result ok. */
  readonly once: number;
  /** Slots (anywhere, not only inside the range) with more than one `run.finished`. */
  readonly doubled: string[];
  /** Slots inside the range with no `run.finished`. */
  readonly missed: string[];
  /** Slots inside the range whose run did not end ok. */
  readonly notOk: string[];
  /** `run.finished` lines per instance name. */
  readonly perInstance: Record<string, number>;
}

/**
 * Counts the `run.finished` lines of `opts.watcher` (default the probe) per grid slot in
 * [fromMs, toMs] across `logs`; with `opts.skipManual`, manual runs are not counted.
 */
export function tallySlots(
  logs: ReadonlyArray<{ name: string; lines: LogLine[] }>,
  fromMs: number,
  toMs: number,
  intervalMs: number,
  opts: { watcher?: string; skipManual?: boolean } = {},
): SlotTally {
  const watcher = opts.watcher ?? 'probe';
  const bySlot = new Map<string, LogLine[]>();
  const perInstance: Record<string, number> = {};
  for (const { name, lines } of logs) {
    for (const l of lines) {
      if (l.event !== 'run.finished' || l.watcher !== watcher) continue;
      if (opts.skipManual === true && l.manual === true) continue;
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
  let once = 0;
  for (let t = Math.ceil(fromMs / intervalMs) * intervalMs; t <= toMs; t += intervalMs) {
    expected += 1;
    const slot = new Date(t).toISOString();
    const runs = bySlot.get(slot) ?? [];
    if (runs.length === 0) {
      missed.push(slot);
      continue;
    }
    run += 1;
    if (runs.some((r) => r.result !== 'ok')) notOk.push(slot);
    else if (runs.length === 1) once += 1;
  }
  return { expected, run, once, doubled, missed, notOk, perInstance };
}

/** Per-slot outcome of the probe across several logs: {@link SlotTally} with `expected` as `slots`. */
export type SlotReport = Omit<SlotTally, 'expected' | 'run'> & {
  /** Slots inside the checked range. */
  readonly slots: number;
};

/**
 * Checks that every grid slot in [fromMs, toMs] has exactly one ok `run.finished` of the probe
 * across `logs`, and that no slot anywhere has two.
 */
export function slotReport(
  logs: ReadonlyArray<{ name: string; lines: LogLine[] }>,
  fromMs: number,
  toMs: number,
  intervalMs: number,
): SlotReport {
  const { expected, once, doubled, missed, notOk, perInstance } = tallySlots(logs, fromMs, toMs, intervalMs);
  return { slots: expected, once, doubled, missed, notOk, perInstance };
}

/** A redis-server of the test's own, on a free port, that the test may stop and start again. */
export class RedisServer {
  #child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    /** `requirepass`, when the test wants a Redis password in its configs. */
    readonly password?: string,
  ) {}

  static async start(opts: { password?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), opts.password);
    await server.resume();
    return server;
  }

  /** (Re)starts the server on the same port and waits until it answers PING. */
  async resume(): Promise<void> {
    if (this.#child) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        ...(this.password === undefined ? [] : ['--requirepass', this.password]),
      ],
      { stdio: 'ignore' },
    );
    this.#child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = testRedis(this.port, '127.0.0.1', {
        lazyConnect: true,
        retryStrategy: () => null,
        ...(this.password === undefined ? {} : { password: this.password }),
      });
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        client.disconnect();
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`redis-server on port ${this.port} did not start (exit ${child.exitCode})`);
      }
      await sleep(50);
    }
  }

  /** Stops the server (SIGKILL: a crash, nothing saved) and waits for it to exit. */
  async halt(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Deletes every key under `prefix` on the Redis at `port`. */
export async function deleteKeys(prefix: string, port = 6379): Promise<void> {
  const client = testRedis(port);
  try {
    await deletePrefix(client, prefix);
  } finally {
    client.disconnect();
  }
}
