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

/** Options of a spawned instance. */
export interface InstanceOptions {
  /** Shift its clock, as `faketime -f` does (`'-2s'`, `'+2s'`). */
  readonly faketime?: string;
}

/** A JSON log line. */
export type LogLine = Record<string, unknown>;

/** What one instance's config file sets; the rest are the daemon's defaults. */
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

/** Writes an instance's config: only the probe enabled, MySQL's own `mysql` database, debug logs. */
export async function writeProbeConfig(c: ProbeConfig): Promise<{ file: string; healthPort: number }> {
  const healthPort = await freePort();
  const my = serverOptions();
  const file = writeConfig(
    tempDir('iamw-cluster-'),
    `health-check-address: 127.0.0.1:${healthPort}
startup-timeout: 20s
shutdown-timeout: ${c.shutdownTimeout ?? '30s'}
instance-id: ${c.instanceId}
lock:
  backend: redis
  lease: ${c.lease ?? '30s'}
  key-prefix: ${c.keyPrefix}
mysql:
  host: ${my.host ?? '127.0.0.1'}:${my.port ?? 3306}
  username: ${my.user ?? 'root'}
  password: "\${E2E_MYSQL_PASSWORD:-}"
  database: mysql
redis:
  host: 127.0.0.1
  port: ${c.redisPort ?? 6379}
  timeout: 1s
log:
  level: debug
watcher:
  task: { enabled: false }
  clean: { enabled: false }
  cleansecret: { enabled: false }
  probe:
    enabled: true
    schedule: '${c.schedule ?? '@every 1s'}'
    mode: ${c.mode ?? 'fixed-rate'}
    overlap: ${c.overlap ?? 'skip'}
    sleep-ms: ${c.sleepMs ?? 0}
    block-ms: ${c.blockMs ?? 0}
`,
  );
  return { file, healthPort };
}

/** One spawned daemon of the cluster. */
export class Instance {
  readonly daemon: Daemon;
  /** Every JSON line it printed, with the test's clock when the line arrived. */
  readonly received: Array<{ atMs: number; line: LogLine }> = [];
  #partial = '';

  constructor(
    readonly name: string,
    readonly file: string,
    readonly healthPort: number,
    readonly opts: InstanceOptions = {},
  ) {
    const my = serverOptions();
    const env: Record<string, string> = { E2E_MYSQL_PASSWORD: my.password ?? '' };
    if (opts.faketime !== undefined) {
      env.LD_PRELOAD = libfaketime();
      env.FAKETIME = opts.faketime;
    }
    this.daemon = new Daemon(['-c', file], { script: ['--import', 'tsx', PROBE_DAEMON], env });
    this.daemon.child.stdout!.on('data', (chunk: string) => this.#take(chunk));
  }

  /** Spawns an instance with a fresh config file. */
  static async start(config: ProbeConfig, opts: InstanceOptions = {}): Promise<Instance> {
    const { file, healthPort } = await writeProbeConfig(config);
    return new Instance(config.instanceId, file, healthPort, opts);
  }

  /** The same config and options again, as a restarted process. */
  restart(): Instance {
    return new Instance(this.name, this.file, this.healthPort, this.opts);
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

  lines(event?: string): LogLine[] {
    const all = this.received.map((r) => r.line);
    return event === undefined ? all : all.filter((l) => l.event === event);
  }

  /** Lines of the probe watcher with this event. */
  probe(event: string): LogLine[] {
    return this.lines(event).filter((l) => l.watcher === 'probe');
  }

  /** Waits for a line; fails with this instance's output. */
  async waitFor(pred: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline || this.exited) {
        throw new Error(
          `${this.name}: no matching log line within ${timeoutMs} ms (exit ${this.daemon.child.exitCode})\n` +
            `stdout (tail):\n${this.daemon.stdout.slice(-4000)}\nstderr:\n${this.daemon.stderr}`,
        );
      }
      await sleep(25);
    }
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
  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts instances together and waits until each has logged `daemon.started`. */
export async function startAll(
  configs: ReadonlyArray<{ config: ProbeConfig; opts?: InstanceOptions }>,
): Promise<Instance[]> {
  const instances = await Promise.all(configs.map((c) => Instance.start(c.config, c.opts)));
  try {
    await Promise.all(instances.map((i) => i.waitFor((l) => l.event === 'daemon.started')));
  } catch (err) {
    for (const i of instances) i.kill('SIGKILL');
    throw err;
  }
  return instances;
}

/** Per-slot outcome of a fixed-rate watcher across several logs. */
export interface SlotReport {
  /** Slots inside the checked range. */
  readonly slots: number;
  /** Slots with exactly one `run.finished`, result ok. */
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
 * Checks that every grid slot in [fromMs, toMs] has exactly one ok `run.finished` of the probe
 * across `logs`, and that no slot anywhere has two.
 */
export function slotReport(
  logs: ReadonlyArray<{ name: string; lines: LogLine[] }>,
  fromMs: number,
  toMs: number,
  intervalMs: number,
): SlotReport {
  const bySlot = new Map<string, LogLine[]>();
  const perInstance: Record<string, number> = {};
  for (const { name, lines } of logs) {
    for (const l of lines) {
      if (l.event !== 'run.finished' || l.watcher !== 'probe') continue;
      const slot = String(l.slot);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), l]);
      perInstance[name] = (perInstance[name] ?? 0) + 1;
    }
  }
  const doubled = [...bySlot].filter(([, ls]) => ls.length > 1).map(([s]) => s);
  const missed: string[] = [];
  const notOk: string[] = [];
  let slots = 0;
  let once = 0;
  for (let t = Math.ceil(fromMs / intervalMs) * intervalMs; t <= toMs; t += intervalMs) {
    slots += 1;
    const slot = new Date(t).toISOString();
    const runs = bySlot.get(slot) ?? [];
    if (runs.length === 0) missed.push(slot);
    else if (runs.some((r) => r.result !== 'ok')) notOk.push(slot);
    else if (runs.length === 1) once += 1;
  }
  return { slots, once, doubled, missed, notOk, perInstance };
}

/** A redis-server of the test's own, on a free port, that the test may stop and start again. */
export class RedisServer {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
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
      ],
      { stdio: 'ignore' },
    );
    this.#child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = testRedis(this.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
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
