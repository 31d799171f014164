/**
 * Throw-away `redis-server` processes on free ports for tests that need several independent servers
 * (quorum) or special set-ups; each is killed by {@link RedisServer.stop}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One running `redis-server`. */
export interface RedisServer {
  readonly port: number;
  readonly process: ChildProcess;
  /** Kills the server (SIGKILL) and waits for it to exit; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server --port N` without persistence (plus `extraArgs`) and waits for PING. With
 * `configFirst`, `extraArgs` is the whole command line (a config file first, e.g. a Sentinel's) and
 * `port` the port that file names.
 */
export async function startRedisServer(
  extraArgs: readonly string[] = [],
  opts: { configFirst?: boolean; port?: number } = {},
): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const args = opts.configFirst
    ? [...extraArgs]
    : ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!(await pings(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not start`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    process: child,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      })()),
  };
}

/** True when a Redis server on `port` answers PING (raw protocol, one short connection). */
export function pings(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    let reply = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
