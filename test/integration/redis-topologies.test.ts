/**
 * The daemon's Redis client (internal/pkg/redis) against the topologies an operator may run, each on
 * `redis-server` children started here: an ACL user, a database index, Sentinel, Cluster and TLS.
 * Each case connects as the daemon does and claims a slot through the coordinator, twice (the
 * second must be `taken`), so the client, the scripts and the key layout all work there.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createRedis, waitRedis, type RedisClientOptions } from '../../internal/pkg/redis/redis.js';
import { createRedisCoordinator } from '../../internal/watcher/lock/index.js';
import { claimOne } from '../helpers/claim.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-servers.js';

const logger = pino({ level: 'silent' });
const base: RedisClientOptions = {
  host: '127.0.0.1',
  port: 6379,
  addrs: [],
  username: '',
  password: '',
  database: 0,
  masterName: '',
  enableCluster: false,
  useSsl: false,
  sslInsecureSkipVerify: false,
  timeoutMs: 2_000,
};

/** Connects like the daemon, claims a slot twice through the coordinator, closes. */
async function claimTwice(o: RedisClientOptions): Promise<void> {
  const h = createRedis(o, logger);
  try {
    await waitRedis(h, 10_000, logger);
    const c = createRedisCoordinator({ redis: h.client, keyPrefix: 'topo', leaseMs: 2_000, instanceId: 't' });
    const slot = Date.now();
    const first = await claimOne(c, 'w', slot, 60_000);
    assert.equal(first.claim, 'claimed');
    assert.ok(first.claim === 'claimed' && first.lease.outcome === 'acquired', 'lease acquired');
    assert.equal((await claimOne(c, 'w', slot, 60_000)).claim, 'taken');
    assert.equal(await c.isClaimed('w', slot), true);
    if (first.claim === 'claimed' && first.lease.outcome === 'acquired') await first.lease.lease.release();
    assert.equal(await c.isRunning('w'), false);
    await c.close();
  } finally {
    await h.close();
  }
}

void describe('Redis topologies', () => {
  const servers: RedisServer[] = [];
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const server = async (args: readonly string[] = []): Promise<RedisServer> => {
    const s = await startRedisServer(args);
    servers.push(s);
    return s;
  };
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'iamw-redis-'));
    dirs.push(d);
    return d;
  };

  void test('ACL user with a password, database index 3: keys land in that database', async () => {
    const s = await server();
    const admin = new Redis({ port: s.port, host: '127.0.0.1' });
    try {
      await admin.call('ACL', 'SETUSER', 'watcher', 'on', '>s3cret', '~topo:*', '+@all');
      await claimTwice({ ...base, port: s.port, username: 'watcher', password: 's3cret', database: 3 });
      await admin.select(3);
      assert.ok((await admin.keys('topo:slot:{w}:*')).length === 1, 'the claim is in database 3');
      await admin.select(0);
      assert.equal((await admin.keys('topo:*')).length, 0, 'nothing in database 0');
      // A wrong password is refused (the daemon reports it at start-up).
      await assert.rejects(claimTwiceQuick({ ...base, port: s.port, username: 'watcher', password: 'bad' }));
    } finally {
      await admin.call('ACL', 'DELUSER', 'watcher').catch(() => undefined);
      admin.disconnect();
    }
  });

  void test('Sentinel: the client finds the master by name', async () => {
    const master = await server();
    const dir = tmp();
    const sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `sentinel monitor iamw 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds iamw 5000',
        '',
      ].join('\n'),
    );
    servers.push(await startRedisServer([conf, '--sentinel'], { configFirst: true, port: sentinelPort }));
    await claimTwice({ ...base, masterName: 'iamw', addrs: [`127.0.0.1:${sentinelPort}`] });
    const m = new Redis({ port: master.port, host: '127.0.0.1' });
    assert.equal((await m.keys('topo:slot:*')).length, 1, 'the claim is on the master');
    m.disconnect();
  });

  void test('Cluster: three masters; a watcher keys share one hash slot', async () => {
    const nodes: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = tmp();
      nodes.push(
        await server([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--dir',
          dir,
        ]),
      );
    }
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'],
      { stdio: 'ignore', timeout: 20_000 },
    );
    // Wait until every node agrees the cluster is ok.
    for (const n of nodes) {
      const c = new Redis({ port: n.port, host: '127.0.0.1' });
      for (let i = 0; i < 100; i++) {
        const info = String(await c.call('CLUSTER', 'INFO'));
        if (info.includes('cluster_state:ok')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      c.disconnect();
    }
    await claimTwice({
      ...base,
      enableCluster: true,
      addrs: nodes.map((n) => `127.0.0.1:${n.port}`),
    });
  });
});

async function claimTwiceQuick(o: RedisClientOptions): Promise<void> {
  const h = createRedis(o, logger);
  try {
    await waitRedis(h, 1_000, logger);
  } finally {
    await h.close();
  }
}
