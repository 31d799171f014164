/** host:port splitting for the MySQL and Redis clients, and the Sentinel list built with it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitHostPort } from '../../internal/pkg/net/host-port.js';
import { redisOptions } from '../../internal/pkg/redis/redis.js';

test('splitHostPort: host, host:port, IPv6 in brackets, default port', () => {
  assert.deepEqual(splitHostPort('db.example:3307', 3306), { host: 'db.example', port: 3307 });
  assert.deepEqual(splitHostPort('db.example', 3306), { host: 'db.example', port: 3306 });
  assert.deepEqual(splitHostPort('[::1]:6380', 6379), { host: '::1', port: 6380 });
  assert.deepEqual(splitHostPort('[::1]', 6379), { host: '::1', port: 6379 });
});

test('Sentinel addresses without a port get 26379, whatever their place in the list', () => {
  const o = redisOptions({
    host: '127.0.0.1',
    port: 6379,
    addrs: ['s1', 's2', '[::1]:26380'],
    username: '',
    password: '',
    database: 0,
    masterName: 'mymaster',
    useSsl: false,
    sslInsecureSkipVerify: false,
    timeoutMs: 1000,
  });
  assert.equal(o.name, 'mymaster');
  assert.deepEqual(o.sentinels, [
    { host: 's1', port: 26379 },
    { host: 's2', port: 26379 },
    { host: '::1', port: 26380 },
  ]);
});
