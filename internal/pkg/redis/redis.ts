/**
 * The Redis client (ioredis), set up to fail fast rather than queue: commands fail at once while the
 * server is down (no offline queue, one try per request, a command timeout), so a caller can skip a
 * slot instead of hanging for minutes. The client keeps reconnecting in the background; an outage
 * is logged once when it starts and once when it ends, not per retry.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { splitHostPort } from '../net/host-port.js';
import { describeCause, waitReady } from '../retry/wait-ready.js';

export type { Cluster, Redis } from 'ioredis';

/** A single server (standalone or through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  readonly host: string;
  readonly port: number;
  /** Sentinel addresses (`host:port`) when `masterName` is set; Cluster nodes with `enableCluster`. */
  readonly addrs: readonly string[];
  /** Redis Cluster (ioredis `Cluster`) over `addrs`; `database` must then be 0. */
  readonly enableCluster?: boolean;
  readonly username: string;
  readonly password: string;
  readonly database: number;
  readonly masterName: string;
  readonly useSsl: boolean;
  readonly sslInsecureSkipVerify: boolean;
  /** PEM CA file to verify the server with (read when the client is built); empty = system CAs. */
  readonly sslCaFile?: string;
  readonly timeoutMs: number;
}

/** A client with its outage state. */
export interface RedisHandle {
  readonly client: RedisClient;
  /** `host:port` (or `sentinel <name>`) for messages; never contains a password. */
  readonly target: string;
  /** The last connection error seen, as a short text. */
  lastError(): string | undefined;
  /** Closes the connection (idempotent). */
  close(): Promise<void>;
}

/** ioredis Cluster options: the node options of {@link redisOptions}, fail fast, reconnect forever. */
export function clusterOptions(o: RedisClientOptions): ClusterOptions {
  const node = redisOptions({ ...o, masterName: '' });
  return {
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRedirections: 4,
    clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    redisOptions: {
      username: node.username,
      password: node.password,
      tls: node.tls,
      connectTimeout: node.connectTimeout,
      commandTimeout: node.commandTimeout,
      maxRetriesPerRequest: node.maxRetriesPerRequest,
    },
    // TLS certificates name the host, not the IP a node announces.
    ...(o.useSsl ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

/** The longest pause between reconnect attempts. */
export const RECONNECT_MAX_MS = 250;

/** Builds ioredis options from the config: fail fast, reconnect forever with a capped pause. */
export function redisOptions(o: RedisClientOptions): RedisOptions {
  const base: RedisOptions = {
    username: o.username || undefined,
    password: o.password || undefined,
    db: o.database,
    lazyConnect: true,
    // Commands issued in the same event-loop turn share one socket write.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: o.timeoutMs,
    connectTimeout: o.timeoutMs,
    // Reconnect at least every 250 ms: runs must resume within one slot of Redis returning, and a
    // per-second watcher is the shortest slot an operator is likely to configure. A refused connect
    // on loopback or a LAN costs next to nothing.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), RECONNECT_MAX_MS),
    tls: o.useSsl
      ? {
          rejectUnauthorized: !o.sslInsecureSkipVerify,
          ...(o.sslCaFile ? { ca: readFileSync(o.sslCaFile, 'utf8') } : {}),
        }
      : undefined,
  };
  if (o.masterName) {
    return { ...base, name: o.masterName, sentinels: o.addrs.map((a) => splitHostPort(a, 26379)) };
  }
  return { ...base, host: o.host, port: o.port };
}

/** Creates the client (not yet connected) and wires its error/outage logging. */
export function createRedis(o: RedisClientOptions, logger: Logger): RedisHandle {
  const client: RedisClient = o.enableCluster
    ? new Cluster(
        o.addrs.map((a) => splitHostPort(a, 6379)),
        clusterOptions(o),
      )
    : new Redis(redisOptions(o));
  const target = o.enableCluster
    ? `redis cluster ${o.addrs.join(',')}`
    : o.masterName
      ? `redis sentinel ${o.masterName}`
      : `redis ${o.host}:${o.port}`;
  let lastError: string | undefined;
  let down = false;
  client.on('error', (err: unknown) => {
    lastError = describeCause(err);
    if (!down) {
      down = true;
      logger.error({ event: 'redis.down', target, cause: lastError }, `${target} unreachable: ${lastError}`);
    }
  });
  client.on('ready', () => {
    if (down) logger.info({ event: 'redis.up', target }, `${target} reachable again`);
    down = false;
    lastError = undefined;
  });
  let closed: Promise<void> | undefined;
  return {
    client,
    target,
    lastError: () => lastError,
    close: () =>
      (closed ??= (async () => {
        if (client.status === 'end') return;
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      })()),
  };
}

/** Connects and waits for `PING`, up to `timeoutMs`, logging each retry. */
export async function waitRedis(
  h: RedisHandle,
  timeoutMs: number,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  await waitReady({
    target: h.target,
    timeoutMs,
    logger,
    signal,
    attempt: async () => {
      try {
        if (h.client.status === 'wait') await h.client.connect();
        await h.client.ping();
      } catch (err) {
        // The socket error is the useful cause; "stream isn't writeable" only says we are offline.
        const cause = h.lastError();
        throw cause ? new Error(cause, { cause: err }) : err;
      }
    },
  });
}

/**
 * Clients of the independent servers of `lock.redis-addrs` (each a standalone server, with the
 * credentials and TLS settings of `redis`). They connect in the background and keep reconnecting:
 * a majority is enough to claim, so one server down at start-up does not stop the daemon.
 */
export function createLockRedis(
  addrs: readonly string[],
  o: RedisClientOptions,
  logger: Logger,
): RedisHandle[] {
  return addrs.map((addr) => {
    const { host, port } = splitHostPort(addr, 6379);
    const h = createRedis({ ...o, host, port, addrs: [], masterName: '', enableCluster: false }, logger);
    h.client.connect().catch(() => undefined);
    return h;
  });
}
