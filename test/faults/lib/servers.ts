/**
 * Private servers for the outages: a redis-server and a MariaDB of the test's own, on free loopback
 * ports, that a test may kill and start again. The shared servers on 3306 and 6379 are never touched.
 * Every process is adopted (killed when the test process exits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { freePort, tempDir } from '../../helpers/daemon.js';
import { adopt, sleep } from './procs.js';

const SCHEMA = fileURLToPath(new URL('../../../deploy/sql/iam-schema.sql', import.meta.url));

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((r) => child.once('exit', r));
}

/** A redis-server without persistence: a restart starts with empty memory. */
export class PrivateRedis {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.resume();
    return r;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server (again) on the same port, waits until it answers PING; returns the ms it took. */
  async resume(): Promise<number> {
    if (this.#child) throw new Error('redis-server already runs');
    const t0 = performance.now();
    const child = adopt(
      spawn(
        'redis-server',
        ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      ),
    );
    this.#child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = this.client({ lazyConnect: true });
      try {
        await c.connect();
        if ((await c.ping()) === 'PONG') return performance.now() - t0;
      } catch {
        // not up yet
      } finally {
        c.disconnect();
      }
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server :${this.port} did not start`);
      await sleep(25);
    }
  }

  /** Kills the server (a crash: nothing is saved). */
  async halt(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  /** A client that fails fast. */
  client(extra: { lazyConnect?: boolean } = {}): Redis {
    const c = new Redis({
      host: '127.0.0.1',
      port: this.port,
      maxRetriesPerRequest: 0,
      connectTimeout: 500,
      commandTimeout: 1000,
      retryStrategy: () => null,
      ...extra,
    });
    c.on('error', () => undefined);
    return c;
  }
}

/** Connection settings of a {@link PrivateMariaDB}. */
export interface MariaDBAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/**
 * A mariadbd with its own data directory (root without password on 127.0.0.1 only), installed once
 * per test file. `kill()` is a crash (SIGKILL), `start()` brings it back on the same port.
 */
export class PrivateMariaDB {
  #child: ChildProcess | undefined;
  /** How long each start took, until the server answered. */
  readonly startMs: number[] = [];
  installMs = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly extraArgs: readonly string[] = [],
  ) {}

  get address(): MariaDBAddress {
    return { host: '127.0.0.1', port: this.port, user: 'root', password: '' };
  }

  /** `extraArgs` are appended to mariadbd's command line on every start (e.g. TLS files). */
  static async create(extraArgs: readonly string[] = []): Promise<PrivateMariaDB> {
    const db = new PrivateMariaDB(tempDir('iamw-faults-mariadb-'), await freePort(), extraArgs);
    const t0 = performance.now();
    const r = spawnSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${join(db.dir, 'data')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`mariadb-install-db failed: ${r.stdout}\n${r.stderr}`);
    db.installMs = performance.now() - t0;
    await db.start();
    return db;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts mariadbd and waits until it answers; returns the ms it took. */
  async start(): Promise<number> {
    if (this.#child) throw new Error('mariadbd already runs');
    const t0 = performance.now();
    const child = adopt(
      spawn(
        '/usr/sbin/mariadbd',
        [
          '--no-defaults',
          '--user=root',
          `--datadir=${join(this.dir, 'data')}`,
          `--port=${this.port}`,
          `--socket=${join(this.dir, 's.sock')}`,
          '--bind-address=127.0.0.1',
          '--innodb-buffer-pool-size=64M',
          '--skip-log-bin',
          `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
          `--log-error=${join(this.dir, 'error.log')}`,
          ...this.extraArgs,
        ],
        { stdio: 'ignore' },
      ),
    );
    this.#child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const c = await mysql.createConnection({ ...this.address, connectTimeout: 500 });
        await c.query('SELECT 1');
        await c.end();
        const ms = performance.now() - t0;
        this.startMs.push(ms);
        return ms;
      } catch {
        // not up yet
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `mariadbd :${this.port} did not start (exit ${child.exitCode}); see ${this.dir}/error.log`,
        );
      }
      await sleep(50);
    }
  }

  /** Kills mariadbd (SIGKILL: a crash; InnoDB recovers on the next start). */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  /** Creates `name` with the IAM schema. */
  async createIamDatabase(name: string): Promise<void> {
    const c = await mysql.createConnection({ ...this.address, multipleStatements: true });
    try {
      await c.query(`CREATE DATABASE \`${name}\` DEFAULT CHARACTER SET utf8`);
      await c.query(`USE \`${name}\``);
      await c.query(await readFile(SCHEMA, 'utf8'));
    } finally {
      await c.end();
    }
  }

  pool(database: string): mysql.Pool {
    return mysql.createPool({ ...this.address, database, connectionLimit: 4, timezone: 'Z' });
  }

  /** Kills the server and removes its data directory. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
