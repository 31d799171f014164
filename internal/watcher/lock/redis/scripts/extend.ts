/**
 * EXTEND: gives a lease its full length again if the key still holds the holder's token, item by
 * item.
 *
 * KEYS per item (1): the lease key.
 * ARGV per item (2): token, lease ms.
 * Reply per item: `1` = extended, `0` = the key holds another value or none (the lease is not ours).
 */
import type { RedisScript } from '../batcher.js';
import { withPackedItems } from './packed.js';

export const EXTEND: RedisScript = {
  name: 'iamWatcherExtend',
  lua: withPackedItems(`
local out = {}
for i = 0, #KEYS - 1 do
  local key, token, leaseMs = KEYS[i + 1], ARGV[i * 2 + 1], ARGV[i * 2 + 2]
  local reply = 0
  if redis.call('GET', key) == token then
    redis.call('PEXPIRE', key, leaseMs)
    reply = 1
  end
  out[i + 1] = reply
end
return out
`),
};
